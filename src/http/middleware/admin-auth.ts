import type { Context, MiddlewareHandler } from 'hono';
import { checkBearer } from '../../auth/bearer.js';
import type { Core } from '../../core.js';
import { AuthError, isAuthError, unavailableFrom } from '../../errors.js';
import { allowsRoute, rawPathProblem } from '../../permissions/index.js';
import { rawPathOf } from '../request.js';
import { fail, send } from '../respond.js';
import { identityHeaders } from '../validate-answer.js';
import { hostSource } from '../request.js';
import { logRefusal, missingPermissions } from './refusal-log.js';

/** What the handlers behind the middleware know about the caller (wire §5.1 step 3). */
export interface AdminCaller {
  keyId: string;
  sid: string;
  /** Effective permissions: claims ∩ the key's current list, in claim order. */
  permissions: string[];
}

const callers = new WeakMap<Context, AdminCaller>();

/** The caller the middleware authenticated for this request, or undefined outside `/admin`. */
export function adminCallerOf(c: Context): AdminCaller | undefined {
  return callers.get(c);
}

/** The caller the middleware authenticated for this request. */
export function adminCaller(c: Context): AdminCaller {
  const caller = callers.get(c);
  if (caller === undefined) throw new Error('adminCaller() outside the /admin middleware');
  return caller;
}

const BEARER_CODES = new Set(['invalid_request', 'token_expired', 'token_revoked', 'invalid_token']);

export interface AdminAuthOptions {
  core: Core;
  /**
   * Which `/admin` route (its registered pattern) a path names, statics first; undefined when
   * none. Applied to the raw path and to the router's decoded path, which must agree.
   */
  matchRoute: (path: string) => string | undefined;
}

/**
 * The `/admin` middleware (wire §5.1). It runs for every path that names an `/admin` route,
 * whatever the method, before the 405; any other path under `/admin` is a plain empty 404.
 *
 * A path whose raw form names no route, or a different route than the decoded path the router
 * dispatches on (`/admin/%6Beys`, `/admin/keys/client%73`), or that §12 refuses (encoded slash or
 * backslash), is answered 404 here: otherwise the permission table (raw path) and the handler
 * (decoded path) would disagree about which route is being called.
 */
export function adminAuth(opts: AdminAuthOptions): MiddlewareHandler {
  const { core, matchRoute } = opts;
  return async function adminMiddleware(c, next) {
    const path = rawPathOf(c.req.url);
    const route = matchRoute(path);
    if (route === undefined || rawPathProblem(path) !== undefined || matchRoute(c.req.path) !== route) {
      return send(c, null, 404);
    }

    let caller: AdminCaller;
    try {
      caller = await checkBearer(core, c.req.header('authorization'), hostSource(c, core.config));
    } catch (e) {
      // The database out of reach says nothing about the token: 503, so the client keeps it.
      const unavailable = unavailableFrom(e);
      if (unavailable !== undefined) return fail(c, unavailable);
      // Token failures only: anything unexpected is a failed check, never a 500 (wire §5.1).
      const err = isAuthError(e) && BEARER_CODES.has(e.code) ? e : new AuthError('invalid_token', 'Invalid token');
      return fail(c, err, { bodyless: true });
    }
    // Known before the route check, so a refusal's audit line names the caller too.
    callers.set(c, { keyId: caller.keyId, sid: caller.sid, permissions: caller.permissions });
    if (!allowsRoute(caller.permissions, c.req.method, path)) {
      logRefusal(core.log, 'warn', {
        keyId: caller.keyId,
        method: c.req.method,
        path,
        missing: missingPermissions(caller.permissions, c.req.method, path),
      });
      return fail(c, new AuthError('permission_denied', 'Permission denied'), { bodyless: true });
    }

    await next();

    // Every answer from here on, handler errors and the 405 included, names the caller (§2.3).
    const headers = c.res.headers;
    const identity = identityHeaders(caller.keyId, caller.permissions);
    for (const name in identity) headers.set(name, identity[name] as string);
  };
}
