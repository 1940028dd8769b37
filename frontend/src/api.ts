/**
 * The page's calls to its own node (same origin), and its admin session. The session lives in
 * `sessionStorage` only (one tab, gone when the tab closes), is refreshed once after a
 * 401 `token_expired`, and is ended with `POST /auth/logout` — never `/admin/revoke`, which
 * would revoke the operator's whole account key (wire §3.10).
 */
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import { displayMessage, t } from './i18n.js';

export interface Session {
  access_token: string;
  refresh_token: string;
  username: string;
}

const SESSION_KEY = 'mero-auth.session';

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (raw === null) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.access_token !== 'string' || typeof s.refresh_token !== 'string') return null;
    return { access_token: s.access_token, refresh_token: s.refresh_token, username: s.username ?? '' };
  } catch {
    return null;
  }
}

function saveSession(s: Session): void {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(SESSION_KEY);
}

/** A request that failed with a message for the user. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** Seconds from `Retry-After` (429, 503). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** The page's own session is gone (expired beyond refresh, revoked, reused): sign in again. */
export class SessionEnded extends Error {
  constructor() {
    super(t('error.sessionEnded'));
  }
}

/**
 * A second-factor change refused because the sign-in behind the page's session is not recent
 * (`second_factor.reauth_seconds`, issue 13): sign in again, then retry.
 */
export class ReauthRequired extends Error {
  constructor() {
    super(t('error.reauth'));
  }
}

/** The node's refusal of a change from a session whose sign-in is too old. */
const REAUTH_PREFIX = 'Changing second factors needs a recent sign-in';

type Json = Record<string, unknown> | null;

async function readJson(res: Response): Promise<Json> {
  try {
    const v: unknown = await res.json();
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The server's message: `error.message ?? error ?? message` (wire §9), else the status. */
function messageOf(json: Json, res: Response): string {
  const err = json?.error;
  if (err !== null && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    return displayMessage((err as { message: string }).message);
  }
  if (typeof err === 'string' && err !== '') return displayMessage(err);
  if (typeof json?.message === 'string' && json.message !== '') return displayMessage(json.message);
  return t('error.status', { status: `${res.status}${res.statusText ? ` ${res.statusText}` : ''}` });
}

function retryAfter(res: Response): number | undefined {
  const v = Number(res.headers.get('retry-after'));
  return Number.isFinite(v) && v > 0 ? Math.ceil(v) : undefined;
}

async function failure(res: Response): Promise<ApiError> {
  return new ApiError(messageOf(await readJson(res), res), res.status, retryAfter(res));
}

/** A fetch that turns "cannot reach the node" into an ApiError. */
async function call(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, { ...init, credentials: 'omit', cache: 'no-store' });
  } catch {
    throw new ApiError(t('error.unreachable'), 0);
  }
}

const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

function tokensOf(json: Json): { access_token: string; refresh_token: string } | undefined {
  const data = (json?.data ?? json) as { access_token?: unknown; refresh_token?: unknown } | null;
  if (data && typeof data.access_token === 'string' && typeof data.refresh_token === 'string') {
    return { access_token: data.access_token, refresh_token: data.refresh_token };
  }
  return undefined;
}

export interface ProviderInfo {
  enabled: boolean;
  configured: boolean;
  /** The `passkey` provider is on (issue 13): offer "Sign in with a passkey". */
  passkey: boolean;
}

/** `GET /auth/providers`: is `user_password` on, and does an account exist? */
export async function getProviders(): Promise<ProviderInfo> {
  const res = await call('/auth/providers', { method: 'GET' });
  if (!res.ok) throw await failure(res);
  const json = await readJson(res);
  const list = (json?.data as { providers?: unknown } | undefined)?.providers;
  const providers = Array.isArray(list) ? (list as Array<{ name?: unknown; configured?: unknown }>) : [];
  const mine = providers.find((p) => p.name === 'user_password');
  return {
    enabled: mine !== undefined,
    configured: mine?.configured !== false,
    passkey: providers.some((p) => p.name === 'passkey'),
  };
}

/**
 * `POST /auth/token` with exactly the body of wire §9; the tokens are bound to this page's host.
 * `factor` carries the second step of an account with a second factor (issue 13).
 */
export async function signIn(
  username: string,
  password: string,
  factor: { totp_code: string } | { recovery_code: string } | Record<string, never> = {},
): Promise<Session> {
  return tokenRequest('user_password', { username, password, ...factor }, username);
}

let refreshing: Promise<Session> | null = null;

/** One refresh at a time; both rotated tokens are kept. Any failure ends the session. */
function refresh(s: Session): Promise<Session> {
  refreshing ??= (async () => {
    const res = await postJson('/auth/refresh', { access_token: s.access_token, refresh_token: s.refresh_token });
    const tokens = res.ok ? tokensOf(await readJson(res)) : undefined;
    if (!tokens) {
      clearSession();
      throw new SessionEnded();
    }
    const next = { ...tokens, username: s.username };
    saveSession(next);
    return next;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** Answers that mean the bearer itself is no good (the `/admin` middleware, validate). */
const DEAD_TOKEN = new Set([
  'token_expired',
  'token_revoked',
  'token_reuse',
  'invalid_token',
  'invalid_node',
  'invalid_request',
  'missing_token',
]);

/** A request with the page's bearer: refresh once on 401 `token_expired`, then retry once. */
async function authed(path: string, init: RequestInit): Promise<Response> {
  const s = loadSession();
  if (!s) throw new SessionEnded();
  const send = (token: string) =>
    call(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } });
  let res = await send(s.access_token);
  if (res.status === 401 && res.headers.get('x-auth-error') === 'token_expired') {
    res = await send((await refresh(s)).access_token);
  }
  const xae = res.headers.get('x-auth-error');
  if ((res.status === 401 || res.status === 403 || res.status === 400) && xae !== null && DEAD_TOKEN.has(xae)) {
    clearSession();
    throw new SessionEnded();
  }
  return res;
}

/** Is the stored session still good (`HEAD /auth/validate`, refreshed if it just expired)? */
export async function liveSession(): Promise<Session | null> {
  if (!loadSession()) return null;
  try {
    const res = await authed('/auth/validate', { method: 'HEAD' });
    if (res.ok) return loadSession();
  } catch (e) {
    if (!(e instanceof SessionEnded)) throw e;
  }
  clearSession();
  return null;
}

export interface ClientKeyRequest {
  context_id: string;
  context_identity: string;
  permissions: string[];
}

/** `POST /admin/client-key` with the page's root bearer (wire §5.7). */
export async function mintClientKey(body: ClientKeyRequest): Promise<{ access_token: string; refresh_token: string }> {
  const res = await authed('/admin/client-key', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await readJson(res);
  const tokens = res.ok ? tokensOf(json) : undefined;
  if (!tokens) throw new ApiError(messageOf(json, res), res.status, retryAfter(res));
  return tokens;
}

/**
 * Sign out: forget the session here, then end it on the node. False when the node could not
 * confirm it (the tokens are forgotten anyway and expire on their own).
 */
export async function signOut(): Promise<boolean> {
  const s = loadSession();
  clearSession();
  if (!s) return true;
  const res = await postJson('/auth/logout', { refresh_token: s.refresh_token }).catch(() => undefined);
  return res?.ok === true;
}

/** One row of `GET /admin/sessions`. */
export interface SessionRow {
  sid: string;
  client_name: string | null;
  created_at: number;
  last_refresh_at: number | null;
  address: string | null;
  current: boolean;
}

/** One page of `GET /admin/sessions`: `next_cursor` fetches the next, null on the last. */
export interface SessionPage {
  sessions: SessionRow[];
  next_cursor: string | null;
}

/** `GET /admin/sessions`: one page of the account's live sessions, the most recently active first. */
export async function listSessions(cursor?: string): Promise<SessionPage> {
  const query = cursor === undefined ? '' : `?cursor=${encodeURIComponent(cursor)}`;
  const res = await authed(`/admin/sessions${query}`, { method: 'GET' });
  const json = await readJson(res);
  const data = json?.data as { sessions?: unknown; next_cursor?: unknown } | undefined;
  if (!res.ok || !Array.isArray(data?.sessions)) throw new ApiError(messageOf(json, res), res.status, retryAfter(res));
  return {
    sessions: data.sessions as SessionRow[],
    next_cursor: typeof data.next_cursor === 'string' ? data.next_cursor : null,
  };
}

/** `DELETE /admin/sessions/:sid`; ending the page's own session forgets it here too. */
export async function revokeSession(sid: string, current: boolean): Promise<void> {
  const res = await authed(`/admin/sessions/${encodeURIComponent(sid)}`, { method: 'DELETE' });
  if (!res.ok && res.status !== 404) throw await failure(res);
  if (current) clearSession();
}

/** `POST /admin/sessions/revoke-all` ("sign out everywhere", this page included). */
export async function revokeAllSessions(): Promise<void> {
  const res = await authed('/admin/sessions/revoke-all', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  if (!res.ok) throw await failure(res);
  clearSession();
}

// ── Passkeys and second factors (issue 13) ──────────────────────────────────────────────────

/** `POST /auth/token` with a step-up answer: which factor the account needs next. */
export class StepUp extends Error {
  constructor(
    readonly factor: 'passkey' | 'totp',
    message: string,
  ) {
    super(message);
  }
}

const STEP_UP = /^Second factor required: (passkey|totp)\b/;

/**
 * `public_key` only names the login's rate-limit bucket (wire §3.2): the username for a password,
 * the credential id for a passkey (so failures with one passkey do not lock out the others).
 */
async function tokenRequest(authMethod: string, providerData: unknown, username: string, publicKey = username): Promise<Session> {
  const res = await postJson('/auth/token', {
    auth_method: authMethod,
    public_key: publicKey,
    client_name: window.location.href,
    timestamp: Date.now(),
    permissions: [],
    provider_data: providerData,
  });
  const json = await readJson(res);
  const tokens = res.ok ? tokensOf(json) : undefined;
  if (!tokens) {
    const err = json?.error;
    const m = typeof err === 'string' ? STEP_UP.exec(err) : null;
    if (res.status === 401 && m) throw new StepUp(m[1] as 'passkey' | 'totp', err as string);
    throw new ApiError(messageOf(json, res), res.status, retryAfter(res));
  }
  const session = { ...tokens, username };
  saveSession(session);
  return session;
}

/**
 * Sign in with a passkey: options from the node, the browser's ceremony, then `POST /auth/token`
 * with `auth_method: "passkey"`. With `autofill`, the ceremony waits on the username field's
 * passkey suggestions (conditional UI) instead of opening a dialog.
 */
export async function passkeySignIn(
  username: string,
  autofill = false,
  stillWanted: () => boolean = () => true,
): Promise<Session> {
  const res = await postJson('/auth/passkey/options', username === '' ? {} : { username });
  const json = await readJson(res);
  if (!res.ok) throw new ApiError(messageOf(json, res), res.status, retryAfter(res));
  // A ceremony started meanwhile (the button, after the autofill's options were asked for) must
  // not be aborted by this one starting late.
  if (!stillWanted()) throw new DOMException('superseded', 'AbortError');
  const start = json?.data as { attempt_id: string; options: Parameters<typeof startAuthentication>[0]['optionsJSON'] };
  const response = await startAuthentication({ optionsJSON: start.options, useBrowserAutofill: autofill });
  const session = await tokenRequest('passkey', { attempt_id: start.attempt_id, response }, username, response.id);
  if (session.username === '') {
    // A discoverable passkey names no account: ask the node whose it is, for "Signed in as".
    const status = await secondFactorStatus().catch(() => undefined);
    if (status) {
      session.username = status.username;
      saveSession(session);
    }
  }
  return session;
}

export interface PasskeyRow {
  credential_id: string;
  name: string;
  created_at: number;
  last_used_at: number | null;
  backed_up: boolean;
}

export interface SecondFactorStatus {
  username: string;
  second_factor: 'none' | 'passkey' | 'totp';
  totp_enrolled: boolean;
  recovery_codes_left: number;
  passkeys: PasskeyRow[];
  passkeys_enabled: boolean;
}

async function authedJson<T>(path: string, method: string, body?: unknown): Promise<T> {
  const res = await authed(path, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const json = await readJson(res);
  if (res.status === 403 && typeof json?.error === 'string' && json.error.startsWith(REAUTH_PREFIX)) throw new ReauthRequired();
  if (!res.ok) throw new ApiError(messageOf(json, res), res.status, retryAfter(res));
  return json?.data as T;
}

export const secondFactorStatus = (): Promise<SecondFactorStatus> => authedJson('/admin/second-factor', 'GET');

export const setSecondFactor = (second_factor: SecondFactorStatus['second_factor']): Promise<{ recovery_codes: string[] }> =>
  authedJson('/admin/second-factor', 'PUT', { second_factor });

export const deletePasskey = (id: string): Promise<unknown> => authedJson(`/admin/passkeys/${encodeURIComponent(id)}`, 'DELETE');

/** Registers a passkey for the signed-in account: options, the browser's ceremony, the attestation. */
export async function addPasskey(name: string): Promise<PasskeyRow> {
  const start = await authedJson<{ attempt_id: string; options: Parameters<typeof startRegistration>[0]['optionsJSON'] }>(
    '/admin/passkeys/options',
    'POST',
  );
  const response = await startRegistration({ optionsJSON: start.options });
  return authedJson('/admin/passkeys', 'POST', { attempt_id: start.attempt_id, name, response });
}

export const startTotp = (): Promise<{ secret: string; otpauth_uri: string; qr_svg: string }> =>
  authedJson('/admin/totp', 'POST');

export const confirmTotp = (code: string): Promise<{ recovery_codes: string[] }> =>
  authedJson('/admin/totp/confirm', 'POST', { code });
