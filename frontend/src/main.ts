/**
 * The login page: check where tokens would go, sign in, ask for consent, hand the tokens over
 * in the callback's fragment (wire §9). Plain DOM, no framework; text only ever goes in
 * through text nodes (never innerHTML).
 */
import './style.css';
import { ApiError, SessionEnded, getProviders, liveSession, mintClientKey, signIn, signOut, type Session } from './api.js';
import { checkCallback, denyUrl, handOffUrl, nodeUrl, parseOriginList, readParams, type CallbackCheck } from './callback.js';
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
  document.title = `${title} · Calimero node`;
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

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function messageOf(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.retryAfter !== undefined && (e.status === 429 || e.status === 503)) {
      return `${e.message.replace(/\.?$/, '.')} Try again in ${plural(e.retryAfter, 'second')}.`;
    }
    return e.message;
  }
  if (e instanceof SessionEnded) return e.message;
  return `Something went wrong: ${e instanceof Error ? e.message : String(e)}`;
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

// ---------------------------------------------------------------------------------------------
// Steps

async function start(): Promise<void> {
  if (!callback.ok) return refused(callback);
  let providers;
  try {
    providers = await getProviders();
  } catch (e) {
    return unreachable(e);
  }
  if (!providers.enabled) {
    return show('Sign-in unavailable', ['Sign-in is not available'], h('p', {}, 'No sign-in method is enabled on this node.'));
  }
  if (!providers.configured) return setup();
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
      ? [
          h('p', {}, 'This sign-in link has no ', code('callback-url'), ', so there is nowhere to send you afterwards.'),
          h('p', {}, 'Start the sign-in again from the app or command that sent you here.'),
        ]
      : check.reason === 'untrusted'
        ? [
            h('p', {}, 'It would send access to this node to'),
            h('p', { class: 'who' }, origin(check.origin)),
            h('p', {}, 'which this node does not trust, so no sign-in form is shown and nothing is handed over.'),
            h(
              'p',
              { class: 'muted' },
              'If that app is yours, the node operator can trust its address by adding it to ',
              code('frontend.allowed_callback_origins'),
              ' in the configuration.',
            ),
          ]
        : [
            h('p', {}, 'Its return address must be a full web address starting with http:// or https://. It was:'),
            h('p', { class: 'raw' }, code(check.raw.length > 200 ? `${check.raw.slice(0, 200)}…` : check.raw)),
          ];
  show('Request refused', ['This sign-in request was refused'], ...why);
}

function unreachable(e: unknown): void {
  show(
    'Cannot reach the node',
    ['Cannot reach the node'],
    h('p', {}, messageOf(e)),
    h('div', { class: 'actions' }, button('Try again', 'Trying…', 'primary', { onclick: () => void start() })),
  );
}

function setup(): void {
  const again = button('Check again', 'Checking…', 'primary', {
    onclick: () => {
      if (again.hasAttribute('aria-busy')) return;
      pending(again, [again], true);
      void start();
    },
  });
  show(
    'No account yet',
    ['No account has been set up yet'],
    h('p', {}, 'Nobody can sign in to this node until its operator creates the first account, in one of two ways:'),
    h(
      'ul',
      { class: 'steps' },
      h(
        'li',
        {},
        'With the service stopped, run ',
        code('mero-auth set-admin --username <name> --password-stdin'),
        ', type the password on one line, then start the service again.',
      ),
      h(
        'li',
        {},
        'Or start the service with ',
        code('MERO_AUTH_ADMIN_USER'),
        ' and ',
        code('MERO_AUTH_ADMIN_PASSWORD'),
        ' (or ',
        code('MERO_AUTH_ADMIN_PASSWORD_FILE'),
        ') set; the account is created when it starts.',
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
    autocomplete: 'username',
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
  const submit = button('Sign in', 'Signing in…', 'primary', { type: 'submit' });
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
        if (username.value === '') return invalid(username, 'Enter your username.');
        if (password.value === '') return invalid(password, 'Enter your password.');
        busy = true;
        pending(submit, [submit, username, password], true);
        signIn(username.value, password.value).then(consent, (err: unknown) => {
          busy = false;
          pending(submit, [submit, username, password], false);
          password.value = '';
          if (err instanceof ApiError && err.status === 401) password.setAttribute('aria-invalid', 'true');
          showError(messageOf(err));
        });
      },
    },
    field('Username', username),
    field('Password', password),
    h('div', { class: 'actions' }, submit),
  );
  show(
    'Sign in',
    ['Sign in'],
    h(
      'p',
      { class: 'who' },
      origin(callback.origin),
      h('span', { class: 'muted' }, ' is asking for access to this node. Sign in to review the request.'),
    ),
    form,
  );
  if (notice) showStatus(notice);
}

function permissionItem(p: DescribedPermission): HTMLElement {
  return h(
    'li',
    { class: p.high ? 'perm high' : 'perm' },
    h('span', { class: 'perm-text' }, p.text, p.scope ? ` (${p.scope})` : ''),
    p.high && h('span', { class: 'badge' }, 'High risk'),
    h('code', { class: 'perm-raw' }, p.raw),
  );
}

function consent(session: Session): void {
  if (!callback.ok) return;
  const target = callback;
  const described = permissions.map(describePermission);
  const high = described.some((p) => p.high);
  const approve = button('Approve', 'Approving…', 'primary');
  const deny = button('Deny', 'Deny', 'secondary');
  const out = button('Sign out', 'Signing out…', 'link');
  let busy = false;
  const controls = [approve, deny, out];

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
          'Access approved.',
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
    leave(target.origin, denyUrl(target.url), 'You denied the request.');
  });
  out.addEventListener('click', () => {
    if (busy) return;
    busy = true;
    pending(out, controls, true);
    void signOut().then((confirmed) =>
      signInForm(
        confirmed ? 'You are signed out.' : 'You are signed out here; the node could not be reached to end the session.',
      ),
    );
  });

  const context =
    params.contextId !== '' && params.contextIdentity !== ''
      ? h('p', {}, 'Tied to context ', code(params.contextId), ' as identity ', code(params.contextIdentity), '.')
      : null;
  show(
    'Approve access',
    [h('span', { class: 'lead' }, 'Allow access for'), ' ', origin(target.origin)],
    h('p', { class: 'muted' }, 'This app is asking to use this node with your account. It will be able to:'),
    described.length > 0
      ? h('ul', { class: 'perms' }, ...described.map(permissionItem))
      : h('p', { class: 'perms-none' }, 'Nothing beyond knowing that you approved it (no permissions requested).'),
    context,
    high &&
      h(
        'p',
        { class: 'warning' },
        'This request includes high-risk permissions. Approve only if you trust ',
        origin(target.origin),
        '.',
      ),
    h('div', { class: 'actions' }, approve, deny),
    h('p', { class: 'account' }, 'Signed in as ', h('strong', {}, session.username || 'this account'), '. ', out),
  );
}

function leave(to: string, url: string, note: string): void {
  show('Returning', ['Returning to ', origin(to)], h('p', {}, note));
  window.location.replace(url);
}

void start();
