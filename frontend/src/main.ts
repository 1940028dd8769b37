/**
 * The login page: check where tokens would go, sign in, ask for consent, hand the tokens over
 * in the callback's fragment (wire §9). Plain DOM, no framework; text only ever goes in
 * through text nodes (never innerHTML).
 */
import './style.css';
import { browserSupportsWebAuthnAutofill } from '@simplewebauthn/browser';
import {
  ApiError,
  ReauthRequired,
  SessionEnded,
  StepUp,
  addPasskey,
  confirmTotp,
  deletePasskey,
  passkeySignIn,
  secondFactorStatus,
  setSecondFactor,
  startTotp,
  getProviders,
  liveSession,
  listSessions,
  mintClientKey,
  revokeAllSessions,
  revokeSession,
  signIn,
  signOut,
  type Session,
  type SessionRow,
  type SecondFactorStatus,
} from './api.js';
import { checkCallback, denyUrl, handOffUrl, nodeUrl, parseOriginList, readParams, type CallbackCheck } from './callback.js';
import { currentLanguage, parts, pickLanguage, setLanguage, t } from './i18n.js';
import { describePermission, requestedPermissions, type DescribedPermission } from './permissions.js';

type Attrs = Record<string, string | boolean | undefined | ((e: Event) => void)>;
type Child = Node | string | false | null | undefined;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) if (child !== false && child !== null && child !== undefined) el.append(child);
  return el;
}

const byId = (id: string): HTMLElement => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el;
};

const headBox = byId('head');
const alertBox = byId('alert');
const statusBox = byId('status');
const bodyBox = byId('body');

const query = new URLSearchParams(window.location.search);
setLanguage(pickLanguage(query.get('lang'), navigator.languages ?? [navigator.language]));
document.documentElement.lang = currentLanguage();
for (const el of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
  el.textContent = t(el.dataset.i18n as Parameters<typeof t>[0]);
}

const params = readParams(window.location.search);
const allowedOrigins = parseOriginList(
  document.querySelector<HTMLMetaElement>('meta[name="mero-auth-callback-origins"]')?.content,
);
const callback = checkCallback(params.callbackUrl, window.location.origin, allowedOrigins);
const permissions = requestedPermissions(params.mode, params.permissions);

/** A new step: its heading takes the focus, so it is announced and Tab starts from it. */
function show(title: string, heading: Child[], ...content: Child[]): void {
  alertBox.replaceChildren();
  statusBox.replaceChildren();
  const h1 = h('h1', { tabindex: '-1' }, ...heading);
  headBox.replaceChildren(h1);
  bodyBox.replaceChildren(...content.filter((c): c is Node | string => c !== false && c !== null && c !== undefined));
  document.title = `${title} · ${t('doc.suffix')}`;
  h1.focus();
}

/** An error: into the live region, which takes the focus. */
function showError(message: string): void {
  statusBox.replaceChildren();
  alertBox.replaceChildren(h('p', {}, message));
  alertBox.focus();
}

function showStatus(message: string): void {
  statusBox.replaceChildren(message);
}

function messageOf(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.retryAfter !== undefined && (e.status === 429 || e.status === 503)) {
      return `${e.message.replace(/\.?$/, '.')} ${t(e.retryAfter === 1 ? 'retry.one' : 'retry.other', { n: e.retryAfter })}`;
    }
    return e.message;
  }
  if (e instanceof SessionEnded) return e.message;
  if (e instanceof Error && (e.name === 'NotAllowedError' || e.name === 'AbortError')) return t('error.passkeyCancelled');
  return t('error.other', { message: e instanceof Error ? e.message : String(e) });
}

/**
 * A button whose two labels share one grid cell, so it keeps its size while busy; a busy or
 * blocked button is aria-disabled (it keeps its focus) and its handler ignores presses.
 */
function button(label: string, busyLabel: string, cls: string, attrs: Attrs = {}): HTMLButtonElement {
  return h(
    'button',
    { type: 'button', class: `btn ${cls}`, ...attrs },
    h('span', { class: 'label' }, label),
    h('span', { class: 'busy' }, h('span', { class: 'spinner' }), busyLabel),
  );
}

/** Marks one step's controls as waiting on a request (or not). */
function pending(busy: HTMLButtonElement | null, controls: Array<HTMLButtonElement | HTMLInputElement>, on: boolean): void {
  for (const c of controls) {
    if (c instanceof HTMLInputElement) c.readOnly = on;
    else if (on) c.setAttribute('aria-disabled', 'true');
    else c.removeAttribute('aria-disabled');
  }
  if (busy) {
    if (on) busy.setAttribute('aria-busy', 'true');
    else busy.removeAttribute('aria-busy');
  }
}

const code = (text: string) => h('code', {}, text);
const origin = (text: string) => h('span', { class: 'origin' }, text);

/**
 * The requesting app's name from `app-name`, as a label beside its origin (which stays the trust
 * anchor: the name is the app's own claim). Text only, control characters dropped, at most 60
 * characters; null when absent or empty.
 */
const appName = (() => {
  const raw = (query.get('app-name') ?? '').replace(/[\p{Cc}\p{Cf}]/gu, '').trim();
  if (raw === '') return null;
  const chars = [...raw];
  return chars.length > 60 ? `${chars.slice(0, 60).join('')}…` : raw;
})();
/** The app's name (when given) and its origin. */
const requester = (text: string): Child[] => [appName && h('span', { class: 'app-name' }, appName), origin(text)];

// ---------------------------------------------------------------------------------------------
// Steps

/** The node offers passkeys (`/auth/providers` lists `passkey`, issue 13). */
let passkeysOn = false;
/** Bumped when the autofill (conditional UI) ceremony must not start any more. */
let autofillGeneration = 0;

async function start(): Promise<void> {
  if (!callback.ok) return refused(callback);
  let providers;
  try {
    providers = await getProviders();
  } catch (e) {
    return unreachable(e);
  }
  if (!providers.enabled) {
    return show(t('unavailable.title'), [t('unavailable.heading')], h('p', {}, t('unavailable.text')));
  }
  if (!providers.configured) return setup();
  passkeysOn = providers.passkey;
  let session: Session | null = null;
  try {
    session = await liveSession();
  } catch (e) {
    return unreachable(e);
  }
  if (session) consent(session);
  else signInForm();
}

function refused(check: Extract<CallbackCheck, { ok: false }>): void {
  const why: Child[] =
    check.reason === 'missing'
      ? [h('p', {}, ...parts('refused.missing', { code: code('callback-url') })), h('p', {}, t('refused.missing2'))]
      : check.reason === 'untrusted'
        ? [
            h('p', {}, t('refused.untrusted1')),
            h('p', { class: 'who' }, origin(check.origin)),
            h('p', {}, t('refused.untrusted2')),
            h('p', { class: 'muted' }, ...parts('refused.untrusted3', { code: code('frontend.allowed_callback_origins') })),
          ]
        : [
            h('p', {}, t('refused.invalid')),
            h('p', { class: 'raw' }, code(check.raw.length > 200 ? `${check.raw.slice(0, 200)}…` : check.raw)),
          ];
  show(t('refused.title'), [t('refused.heading')], ...why);
}

function unreachable(e: unknown): void {
  show(
    t('unreachable.title'),
    [t('unreachable.title')],
    h('p', {}, messageOf(e)),
    h('div', { class: 'actions' }, button(t('btn.retry'), t('btn.retrying'), 'primary', { onclick: () => void start() })),
  );
}

function setup(): void {
  const again = button(t('btn.check'), t('btn.checking'), 'primary', {
    onclick: () => {
      if (again.hasAttribute('aria-busy')) return;
      pending(again, [again], true);
      void start();
    },
  });
  show(
    t('setup.title'),
    [t('setup.heading')],
    h('p', {}, t('setup.intro')),
    h(
      'ul',
      { class: 'steps' },
      h('li', {}, ...parts('setup.cli', { code: code('mero-auth set-admin --username <name> --password-stdin') })),
      h(
        'li',
        {},
        ...parts('setup.env', {
          user: code('MERO_AUTH_ADMIN_USER'),
          password: code('MERO_AUTH_ADMIN_PASSWORD'),
          file: code('MERO_AUTH_ADMIN_PASSWORD_FILE'),
        }),
      ),
    ),
    h('div', { class: 'actions' }, again),
  );
}

function field(label: string, input: HTMLInputElement): HTMLElement {
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
}

function signInForm(notice?: string): void {
  if (!callback.ok) return;
  const username = h('input', {
    id: 'username',
    name: 'username',
    type: 'text',
    autocomplete: passkeysOn ? 'username webauthn' : 'username',
    autocapitalize: 'none',
    spellcheck: 'false',
    required: true,
  });
  const password = h('input', {
    id: 'password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const submit = button(t('btn.signin'), t('btn.signingIn'), 'primary', { type: 'submit' });
  let busy = false;
  const invalid = (input: HTMLInputElement, message: string) => {
    input.setAttribute('aria-invalid', 'true');
    showError(message);
  };
  const form = h(
    'form',
    {
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        if (busy) return;
        for (const input of [username, password]) input.removeAttribute('aria-invalid');
        if (username.value === '') return invalid(username, t('error.username'));
        if (password.value === '') return invalid(password, t('error.password'));
        busy = true;
        autofillGeneration++;
        pending(submit, [submit, username, password], true);
        signIn(username.value, password.value).then(consent, (err: unknown) => {
          busy = false;
          pending(submit, [submit, username, password], false);
          if (err instanceof StepUp) return stepUp(err.factor, username.value, password.value);
          password.value = '';
          if (err instanceof ApiError && err.status === 401) password.setAttribute('aria-invalid', 'true');
          showError(messageOf(err));
        });
      },
    },
    field(t('field.username'), username),
    field(t('field.password'), password),
    h('div', { class: 'actions' }, submit),
  );
  const withPasskey =
    passkeysOn &&
    button(t('btn.passkey'), t('btn.passkeyBusy'), 'secondary passkey', {
      id: 'passkey-signin',
      onclick: () => {
        if (busy || !withPasskey) return;
        busy = true;
        autofillGeneration++;
        pending(withPasskey, [withPasskey, submit], true);
        passkeySignIn(username.value.trim()).then(consent, (err: unknown) => {
          busy = false;
          pending(withPasskey, [withPasskey, submit], false);
          showError(messageOf(err));
        });
      },
    });
  show(
    t('signin.title'),
    [t('signin.title')],
    h('p', { class: 'who' }, ...requester(callback.origin), h('span', { class: 'muted' }, t('signin.asking'))),
    form,
    withPasskey && h('p', { class: 'or muted' }, t('signin.or')),
    withPasskey && h('div', { class: 'actions' }, withPasskey),
  );
  if (notice) showStatus(notice);
  if (withPasskey) void offerAutofill();
}

/**
 * Conditional UI: where the browser can, the username field's suggestions include the node's
 * passkeys; picking one signs in. Cancelled quietly when the page moves on or the button is used.
 */
async function offerAutofill(): Promise<void> {
  const generation = ++autofillGeneration;
  const wanted = () => generation === autofillGeneration && document.getElementById('passkey-signin') !== null;
  if (!(await browserSupportsWebAuthnAutofill().catch(() => false)) || !wanted()) return;
  try {
    consent(await passkeySignIn('', true, wanted));
  } catch {
    // Aborted by another ceremony, dismissed, or the node refused: the form stays as it is.
  }
}

/** The second step of a password sign-in for an account with a second factor (issue 13). */
function stepUp(factor: 'passkey' | 'totp', username: string, password: string, recovery = false): void {
  const code = h('input', {
    id: 'code',
    name: 'code',
    type: 'text',
    autocomplete: recovery ? 'off' : 'one-time-code',
    inputmode: recovery ? 'text' : 'numeric',
    spellcheck: 'false',
    required: true,
  });
  const verify = button(t('btn.verify'), t('btn.verifying'), 'primary', { type: 'submit' });
  let busy = false;
  const done = (err: unknown) => {
    busy = false;
    pending(verify, [verify, code], false);
    if (err instanceof StepUp) {
      showError(err.message);
      return;
    }
    code.value = '';
    code.setAttribute('aria-invalid', 'true');
    showError(messageOf(err));
  };
  const form = h(
    'form',
    {
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        if (busy) return;
        const value = code.value.trim();
        if (value === '') {
          code.setAttribute('aria-invalid', 'true');
          return showError(t('error.code'));
        }
        busy = true;
        pending(verify, [verify, code], true);
        signIn(username, password, recovery ? { recovery_code: value } : { totp_code: value }).then(consent, done);
      },
    },
    field(recovery ? t('field.recovery') : t('field.code'), code),
    h('div', { class: 'actions' }, verify),
  );
  const passkey =
    factor === 'passkey' &&
    button(t('btn.usePasskey'), t('btn.passkeyBusy'), 'primary', {
      id: 'passkey-stepup',
      onclick: () => {
        if (busy || !passkey) return;
        busy = true;
        pending(passkey, [passkey], true);
        passkeySignIn(username).then(consent, (err: unknown) => {
          busy = false;
          pending(passkey, [passkey], false);
          showError(messageOf(err));
        });
      },
    });
  const other = button(
    recovery ? (factor === 'totp' ? t('btn.useTotp') : t('btn.usePasskey')) : t('btn.useRecovery'),
    '',
    'link',
    { onclick: () => stepUp(factor, username, password, !recovery) },
  );
  show(
    t('stepup.title'),
    [t('stepup.title')],
    h('p', {}, recovery ? t('stepup.recovery') : factor === 'totp' ? t('stepup.totp') : t('stepup.passkey')),
    factor === 'passkey' && !recovery ? h('div', { class: 'actions' }, passkey) : form,
    h('p', { class: 'account' }, other),
  );
}

function permissionItem(p: DescribedPermission): HTMLElement {
  return h(
    'li',
    { class: p.high ? 'perm high' : 'perm' },
    h('span', { class: 'perm-text' }, p.text, p.scope ? ` (${p.scope})` : ''),
    p.high && h('span', { class: 'badge' }, t('consent.highBadge')),
    h('code', { class: 'perm-raw' }, p.raw),
  );
}

function consent(session: Session): void {
  if (!callback.ok) return;
  const target = callback;
  const described = permissions.map(describePermission);
  const high = described.some((p) => p.high);
  const approve = button(t('btn.approve'), t('btn.approving'), 'primary');
  const deny = button(t('btn.deny'), t('btn.deny'), 'secondary');
  const out = button(t('btn.signOut'), t('btn.signingOut'), 'link');
  const manage = button(t('btn.sessions'), t('btn.sessions'), 'link');
  const security = button(t('btn.security'), t('btn.security'), 'link', { id: 'security' });
  let busy = false;
  const controls = [approve, deny, out, manage, security];

  approve.addEventListener('click', () => {
    if (busy) return;
    busy = true;
    pending(approve, controls, true);
    mintClientKey({ context_id: params.contextId, context_identity: params.contextIdentity, permissions }).then(
      (tokens) =>
        leave(
          target.origin,
          handOffUrl(target.url, {
            accessToken: tokens.access_token,
            refreshToken: tokens.refresh_token,
            contextId: params.contextId,
            contextIdentity: params.contextIdentity,
            nodeUrl: nodeUrl(params.appUrl, window.location.origin),
          }),
          t('leave.approved'),
        ),
      (err: unknown) => {
        if (err instanceof SessionEnded) return signInForm(err.message);
        busy = false;
        pending(approve, controls, false);
        showError(messageOf(err));
      },
    );
  });
  deny.addEventListener('click', () => {
    if (busy) return;
    busy = true;
    leave(target.origin, denyUrl(target.url), t('leave.denied'));
  });
  out.addEventListener('click', () => {
    if (busy) return;
    busy = true;
    pending(out, controls, true);
    void signOut().then((confirmed) => signInForm(confirmed ? t('signedOut.ok') : t('signedOut.offline')));
  });
  manage.addEventListener('click', () => {
    if (busy) return;
    sessionsView(session);
  });
  security.addEventListener('click', () => {
    if (busy) return;
    securityView(session);
  });

  const context =
    params.contextId !== '' && params.contextIdentity !== ''
      ? h('p', {}, ...parts('consent.context', { id: code(params.contextId), identity: code(params.contextIdentity) }))
      : null;
  show(
    t('consent.title'),
    [h('span', { class: 'lead' }, t('consent.lead')), ' ', ...requester(target.origin)],
    h('p', { class: 'muted' }, t('consent.intro')),
    described.length > 0
      ? h('ul', { class: 'perms' }, ...described.map(permissionItem))
      : h('p', { class: 'perms-none' }, t('consent.none')),
    context,
    high && h('p', { class: 'warning' }, ...parts('consent.high', { origin: origin(target.origin) })),
    h('div', { class: 'actions' }, approve, deny),
    h(
      'p',
      { class: 'account' },
      ...parts('account.signedIn', { user: h('strong', {}, session.username || t('account.fallback')) }),
      ' ',
      manage,
      ' · ',
      security,
      ' · ',
      out,
    ),
  );
}

function leave(to: string, url: string, note: string): void {
  show(t('leave.title'), parts('leave.heading', { origin: origin(to) }), h('p', {}, note));
  window.location.replace(url);
}

/** A time from the node (seconds), in the page's language. */
const when = (seconds: number): string => new Date(seconds * 1000).toLocaleString(currentLanguage());

/** The account's sessions, each with Revoke, and "Sign out everywhere" (issue 12). */
function sessionsView(session: Session): void {
  const back = button(t('btn.back'), t('btn.back'), 'secondary', { onclick: () => consent(session) });
  const everywhere = button(t('btn.everywhere'), t('btn.signingOut'), 'danger');
  const list = h('ul', { class: 'sessions', 'aria-busy': 'true' });
  const more = button(t('btn.moreSessions'), t('btn.loadingMore'), 'secondary small');
  more.hidden = true;
  let next: string | null = null;
  let busy = false;
  const ended = (e: unknown): boolean => {
    if (!(e instanceof SessionEnded)) return false;
    signInForm(e.message);
    return true;
  };
  const row = (s: SessionRow): HTMLElement => {
    const revoke = button(t('btn.revoke'), t('btn.revoking'), 'secondary small', {
      'aria-label': `${t('btn.revoke')}: ${s.client_name ?? t('sessions.unknown')}${s.current ? ` (${t('sessions.current')})` : ''}`,
    });
    revoke.addEventListener('click', () => {
      if (busy) return;
      busy = true;
      pending(revoke, [revoke, everywhere, back], true);
      revokeSession(s.sid, s.current).then(
        () => {
          busy = false;
          pending(revoke, [revoke, everywhere, back], false);
          if (s.current) signInForm(t('signedOut.ok'));
          else void load();
        },
        (e: unknown) => {
          busy = false;
          pending(revoke, [revoke, everywhere, back], false);
          if (!ended(e)) showError(messageOf(e));
        },
      );
    });
    const meta = [
      t('sessions.created', { time: when(s.created_at) }),
      s.last_refresh_at !== null && t('sessions.refreshed', { time: when(s.last_refresh_at) }),
      s.address !== null && t('sessions.from', { address: s.address }),
    ].filter((x): x is string => typeof x === 'string');
    return h(
      'li',
      { class: 'session', 'data-sid': s.sid },
      h(
        'div',
        { class: 'session-text' },
        h('span', { class: 'session-name' }, s.client_name ?? t('sessions.unknown')),
        s.current && h('span', { class: 'badge current' }, t('sessions.current')),
        h('span', { class: 'session-meta' }, meta.join(' · ')),
      ),
      revoke,
    );
  };
  /** The first page (after a revoke too), or the page after `cursor` appended below the rest. */
  async function load(cursor?: string): Promise<void> {
    list.setAttribute('aria-busy', 'true');
    try {
      const page = await listSessions(cursor);
      const rows = page.sessions.map(row);
      if (cursor === undefined) list.replaceChildren(...rows);
      else list.append(...rows);
      next = page.next_cursor;
      more.hidden = next === null;
      list.removeAttribute('aria-busy');
    } catch (e) {
      if (!ended(e)) showError(messageOf(e));
    }
  }
  more.addEventListener('click', () => {
    if (busy || next === null) return;
    busy = true;
    pending(more, [more, everywhere, back], true);
    void load(next).finally(() => {
      busy = false;
      pending(more, [more, everywhere, back], false);
    });
  });
  everywhere.addEventListener('click', () => {
    if (busy) return;
    busy = true;
    pending(everywhere, [everywhere, back], true);
    revokeAllSessions().then(
      () => signInForm(t('signedOut.everywhere')),
      (e: unknown) => {
        busy = false;
        pending(everywhere, [everywhere, back], false);
        if (!ended(e)) showError(messageOf(e));
      },
    );
  });
  show(
    t('sessions.title'),
    [t('sessions.heading')],
    h(
      'p',
      { class: 'muted' },
      ...parts('account.signedIn', { user: h('strong', {}, session.username || t('account.fallback')) }),
    ),
    h('p', { class: 'muted' }, t('sessions.intro')),
    list,
    more,
    h('div', { class: 'actions' }, everywhere, back),
  );
  showStatus(t('sessions.loading'));
  void load().then(() => {
    if (statusBox.textContent === t('sessions.loading')) statusBox.replaceChildren();
  });
}

/** Passkeys, the authenticator app and the second-factor policy of the signed-in account (issue 13). */
function securityView(session: Session, notice?: string, recoveryCodes: string[] = []): void {
  const back = button(t('btn.back'), t('btn.back'), 'secondary', { onclick: () => consent(session) });
  const box = h('div', { class: 'security', 'aria-busy': 'true' });
  const ended = (e: unknown): void => {
    if (e instanceof SessionEnded) signInForm(e.message);
    else showError(messageOf(e));
  };
  show(t('security.title'), [t('security.heading')], box, h('div', { class: 'actions' }, back));
  if (notice) showStatus(notice);
  secondFactorStatus().then((status) => renderSecurity(session, box, status, recoveryCodes), ended);
}

function renderSecurity(session: Session, box: HTMLElement, status: SecondFactorStatus, recoveryCodes: string[]): void {
  let busy = false;
  const fail = (b: HTMLButtonElement) => (e: unknown) => {
    busy = false;
    pending(b, [b], false);
    if (e instanceof SessionEnded || e instanceof ReauthRequired) signInForm(e.message);
    else showError(messageOf(e));
  };
  const act = (b: HTMLButtonElement, run: () => Promise<void>) =>
    b.addEventListener('click', () => {
      if (busy) return;
      busy = true;
      pending(b, [b], true);
      run().catch(fail(b));
    });

  const codes =
    recoveryCodes.length > 0 &&
    h(
      'section',
      { class: 'recovery' },
      h('h2', {}, t('recovery.heading')),
      h('p', { class: 'muted' }, t('recovery.intro')),
      h('ul', { class: 'codes' }, ...recoveryCodes.map((c) => h('li', {}, code(c)))),
    );

  const rows = status.passkeys.map((p) => {
    const remove = button(t('btn.remove'), t('btn.removing'), 'secondary small', {
      'aria-label': `${t('btn.remove')}: ${p.name}`,
    });
    act(remove, async () => {
      await deletePasskey(p.credential_id);
      securityView(session, t('passkey.removed'));
    });
    const meta = [
      t('security.added', { time: when(p.created_at) }),
      p.last_used_at !== null && t('security.used', { time: when(p.last_used_at) }),
    ].filter((x): x is string => typeof x === 'string');
    return h(
      'li',
      { class: 'passkey' },
      h(
        'div',
        { class: 'session-text' },
        h('span', { class: 'session-name' }, p.name),
        h('span', { class: 'session-meta' }, meta.join(' · ')),
      ),
      remove,
    );
  });
  const name = h('input', { id: 'passkey-name', name: 'passkey-name', type: 'text', autocomplete: 'off', value: 'Passkey' });
  const add = button(t('btn.addPasskey'), t('btn.adding'), 'primary', { id: 'add-passkey' });
  act(add, async () => {
    await addPasskey(name.value.trim());
    securityView(session, t('passkey.added'));
  });

  const setup = button(t('btn.setupTotp'), t('btn.setupTotp'), 'secondary', { id: 'setup-totp' });
  const totpBox = h('div', { class: 'totp' });
  act(setup, async () => {
    const enrolment = await startTotp();
    busy = false;
    const input = h('input', {
      id: 'totp-code',
      name: 'totp-code',
      type: 'text',
      inputmode: 'numeric',
      autocomplete: 'one-time-code',
    });
    const confirm = button(t('btn.confirm'), t('btn.verifying'), 'primary', { id: 'confirm-totp' });
    act(confirm, async () => {
      const done = await confirmTotp(input.value.trim());
      securityView(session, t('policy.saved'), done.recovery_codes);
    });
    totpBox.replaceChildren(
      h('p', {}, t('totp.scan')),
      h('img', { class: 'qr', src: enrolment.qr_svg, alt: t('totp.qrAlt'), width: '192', height: '192' }),
      h('p', { class: 'raw' }, ...parts('totp.key', { key: code(enrolment.secret) })),
      field(t('field.code'), input),
      h('div', { class: 'actions' }, confirm),
    );
  });

  const choices = (['none', 'passkey', 'totp'] as const).map((v) =>
    h(
      'label',
      { class: 'choice' },
      h('input', { type: 'radio', name: 'second-factor', value: v, checked: status.second_factor === v }),
      ' ',
      t(`policy.${v}`),
    ),
  );
  const save = button(t('btn.save'), t('btn.saving'), 'secondary', { id: 'save-policy' });
  act(save, async () => {
    const picked = box.querySelector<HTMLInputElement>('input[name="second-factor"]:checked')?.value ?? 'none';
    const result = await setSecondFactor(picked as SecondFactorStatus['second_factor']);
    securityView(session, t('policy.saved'), result.recovery_codes);
  });

  box.replaceChildren(
    ...[
      codes,
      status.passkeys_enabled && h('h2', {}, t('security.passkeys')),
      status.passkeys_enabled &&
        (rows.length > 0
          ? h('ul', { class: 'sessions passkeys' }, ...rows)
          : h('p', { class: 'muted' }, t('security.noPasskeys'))),
      status.passkeys_enabled && field(t('field.passkeyName'), name),
      status.passkeys_enabled && h('div', { class: 'actions' }, add),
      h('h2', {}, t('security.totp')),
      status.totp_enrolled ? h('p', { class: 'muted' }, t('security.totpOn')) : null,
      h('div', { class: 'actions' }, setup),
      totpBox,
      h('h2', {}, t('security.policy')),
      h('fieldset', { class: 'choices' }, ...choices),
      status.recovery_codes_left > 0
        ? h('p', { class: 'muted' }, t('security.recoveryLeft', { n: status.recovery_codes_left }))
        : null,
      h('div', { class: 'actions' }, save),
    ].filter((c): c is HTMLElement => c instanceof HTMLElement),
  );
  box.removeAttribute('aria-busy');
}

void start();
