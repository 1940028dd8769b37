/**
 * Where the login page may send tokens, and how (wire §9). Pure functions of strings: no DOM,
 * so the Node tests exercise them directly (test/browser/page-logic.test.ts).
 */

/** The query parameters the page reads from `/auth/login` (others, e.g. `package-name`, are ignored). */
export interface LoginParams {
  callbackUrl: string | null;
  /** The raw comma list; see permissions.ts for splitting. */
  permissions: string | null;
  mode: string | null;
  contextId: string;
  contextIdentity: string;
  appUrl: string | null;
}

export function readParams(search: string): LoginParams {
  const q = new URLSearchParams(search);
  return {
    callbackUrl: q.get('callback-url'),
    permissions: q.get('permissions'),
    mode: q.get('mode'),
    contextId: (q.get('context-id') ?? '').trim(),
    contextIdentity: (q.get('context-identity') ?? '').trim(),
    appUrl: q.get('app-url'),
  };
}

/** `localhost`, `127.0.0.1`, `[::1]` or any `*.localhost` (a URL's `hostname`: IPv6 keeps its brackets). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h === '127.0.0.1' || h === '[::1]' || h.endsWith('.localhost');
}

/** The origins of `<meta name="mero-auth-callback-origins" content="…">` (space-separated). */
export function parseOriginList(content: string | null | undefined): string[] {
  return (content ?? '').split(/\s+/).filter((s) => s !== '');
}

function parseAbsolute(raw: string): URL | undefined {
  try {
    // No base: a relative or scheme-relative value (`/cb`, `//evil.example`) is refused.
    return new URL(raw);
  } catch {
    return undefined;
  }
}

export type CallbackCheck =
  | { ok: true; url: URL; origin: string }
  | { ok: false; reason: 'missing' | 'invalid' | 'scheme'; raw: string }
  | { ok: false; reason: 'untrusted'; raw: string; origin: string };

/**
 * Decides, before any sign-in, whether tokens may go to `raw`: an absolute `http:`/`https:` URL
 * whose origin is loopback, the page's own origin, or one the operator allowed.
 */
export function checkCallback(raw: string | null, pageOrigin: string, allowedOrigins: readonly string[]): CallbackCheck {
  if (raw === null || raw.trim() === '') return { ok: false, reason: 'missing', raw: raw ?? '' };
  const url = parseAbsolute(raw);
  if (!url) return { ok: false, reason: 'invalid', raw };
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'scheme', raw };
  const origin = url.origin;
  if (isLoopbackHost(url.hostname) || origin === pageOrigin || allowedOrigins.includes(origin)) {
    return { ok: true, url, origin };
  }
  return { ok: false, reason: 'untrusted', raw, origin };
}

/**
 * The `node_url` handed back: `app-url` when it names this node (same origin as the page, or
 * both on loopback; a path is kept, for a node behind a base path), else the page's origin.
 * Tokens minted here only work on this node, so a foreign `app-url` is never echoed.
 */
export function nodeUrl(appUrl: string | null, pageOrigin: string): string {
  if (appUrl === null || appUrl === '') return pageOrigin;
  const url = parseAbsolute(appUrl);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return pageOrigin;
  const page = parseAbsolute(pageOrigin);
  if (url.origin === pageOrigin) return appUrl;
  if (page && isLoopbackHost(page.hostname) && isLoopbackHost(url.hostname)) return appUrl;
  return pageOrigin;
}

export interface HandOff {
  accessToken: string;
  refreshToken: string;
  contextId?: string;
  contextIdentity?: string;
  nodeUrl: string;
}

/** `callback` with its fragment replaced by `fragment` (its query is kept as it is; never two `#`). */
function withFragment(callback: URL, fragment: string): string {
  const url = new URL(callback.href);
  url.hash = '';
  return `${url.href}#${fragment}`;
}

/**
 * `<callback>#access_token=…&refresh_token=…[&context_id=…][&context_identity=…]&node_url=…`,
 * values percent-encoded, optional keys only when non-empty. A fragment already on the
 * callback is replaced, not merged: a crafted `#access_token=…` must not shadow ours.
 */
export function handOffUrl(callback: URL, h: HandOff): string {
  const pairs: Array<[string, string]> = [
    ['access_token', h.accessToken],
    ['refresh_token', h.refreshToken],
  ];
  if (h.contextId) pairs.push(['context_id', h.contextId]);
  if (h.contextIdentity) pairs.push(['context_identity', h.contextIdentity]);
  pairs.push(['node_url', h.nodeUrl]);
  return withFragment(callback, pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'));
}

/** Deny: `<callback>#error=access_denied`. */
export function denyUrl(callback: URL): string {
  return withFragment(callback, 'error=access_denied');
}
