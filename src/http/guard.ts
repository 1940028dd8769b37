import type { Context, MiddlewareHandler } from 'hono';
import { checkBearer, checkBearerToken, type BearerCaller } from '../auth/bearer.js';
import { isAuthError, unavailableFrom } from '../errors.js';
import { allowsRoute } from '../permissions/allows-route.js';
import { rawPathProblem } from '../permissions/raw-path.js';
import type { Core } from '../core.js';
import { rawPathOf } from './request.js';
import { logRefusal, missingPermissions } from './middleware/refusal-log.js';
import { hostSource } from './request.js';

/** What the node's handlers get from `c.get('auth')` behind the guard (wire §5.13 step 7). */
export interface AuthIdentity {
  keyId: string;
  sid: string;
  /** Effective permissions: the token's claims ∩ the key's current permissions. */
  permissions: string[];
  /** The root key's public key (the account name); null for client keys. */
  publicKey: string | null;
}

export type GuardEnv = { Variables: { auth: AuthIdentity } };

export interface GuardOptions {
  /**
   * Apply the route → permission table to the request (wire §5.13 step 6). Default true; turn
   * off only for routes that check permissions themselves.
   */
  permissions?: boolean;
}

/** Empty bodies, as the Rust node's guard answers (clients already handle these). */
const bare = (status: number, xae?: string): Response =>
  new Response(null, { status, headers: xae ? { 'x-auth-error': xae, 'content-length': '0' } : { 'content-length': '0' } });

/** The first `token=` pair of the raw query string, not URL-decoded (wire §5.13 step 3). */
function queryToken(url: string): string | undefined {
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  const hash = url.indexOf('#', q);
  for (const item of url.slice(q + 1, hash === -1 ? undefined : hash).split('&')) {
    if (item.startsWith('token=')) return item.slice('token='.length);
  }
  return undefined;
}

/**
 * Whether the route table lets `held` call `method` on this request. The table reads the raw
 * path (permissions.md §8.1, §12), but the host's router may not: Hono's default router
 * percent-decodes (`/%61dmin-api/contexts` is "no requirement" to the table and the
 * `/admin-api/contexts` handler to the router), and `strict: false` drops a trailing slash
 * (`/jsonrpc/` requires nothing, `/jsonrpc` requires `context:execute`). So the request must be
 * allowed under every spelling that could be routed: the raw path, the path the host's router
 * matched (`c.req.path`) and the percent-decoded raw path; none of them may be a path §12 refuses
 * (encoded slash or backslash, `//`, dot segment), and a path that does not decode is refused.
 */
function allowsRequest(held: readonly string[], method: string, raw: string, routed: string): boolean {
  const spellings = new Set([raw, routed]);
  if (raw.includes('%')) {
    try {
      spellings.add(decodeURI(raw));
    } catch {
      return false;
    }
  }
  for (const path of spellings) {
    if (rawPathProblem(path) !== undefined || !allowsRoute(held, method, path)) return false;
  }
  return true;
}

/**
 * The embedded guard a node puts in front of its own routes (`/admin-api/*`, `/jsonrpc`, `/ws`,
 * `/sse`): the Rust node's answers, then the route table on the full path.
 */
export function createGuard(core: Core, options: GuardOptions = {}): MiddlewareHandler<GuardEnv> {
  const checkRoutes = options.permissions !== false;
  return async function guard(c: Context<GuardEnv>, next) {
    if (c.req.method === 'OPTIONS') return next();
    const authorization = c.req.header('authorization');
    const host = hostSource(c, core.config);
    let caller: BearerCaller;
    try {
      if (authorization !== undefined) {
        // The header is the only credential when present: no fallback to a query token.
        caller = await checkBearer(core, authorization, host);
      } else {
        const token = queryToken(c.req.url);
        if (token === undefined) return bare(401);
        caller = await checkBearerToken(core, token, host);
      }
    } catch (e) {
      // The database out of reach says nothing about the token: 503, so the client keeps it.
      if (unavailableFrom(e) !== undefined) {
        return new Response(null, { status: 503, headers: { 'retry-after': '1', 'content-length': '0' } });
      }
      if (isAuthError(e)) {
        if (e.code === 'token_expired') return bare(401, 'token_expired');
        if (e.code === 'token_revoked') return bare(403, 'token_revoked');
        return bare(401);
      }
      // Anything unexpected (a closed store, a bug) is a failed check, never the node's 500 page.
      core.log.error({ err: (e as Error)?.message }, 'embedded guard: token check failed');
      return bare(401);
    }
    if (checkRoutes && !allowsRequest(caller.permissions, c.req.method, rawPathOf(c.req.url), c.req.path)) {
      const path = rawPathOf(c.req.url);
      logRefusal(core.log, 'warn', {
        keyId: caller.keyId,
        method: c.req.method,
        path,
        missing: missingPermissions(caller.permissions, c.req.method, path),
      });
      return bare(403, 'permission_denied');
    }
    c.set('auth', {
      keyId: caller.keyId,
      sid: caller.sid,
      permissions: caller.permissions,
      publicKey: caller.key.key_type === 'Root' ? caller.key.public_key : null,
    });
    await next();
  };
}
