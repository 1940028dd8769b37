import type { Context } from 'hono';
import { tokenFromRequest } from '../../auth/validate.js';
import type { AuthError } from '../../errors.js';
import { determineRequiredPermissions, renderPermission, validatePermissions } from '../../permissions/index.js';
import { logSafe, shortId, type Logger } from '../../util/logger.js';

/** The message of every logged 403 authorisation refusal. */
export const REFUSAL_MESSAGE = 'authorisation refused';

/** The permissions a request needs that `held` does not meet (permissions.md §8.1), rendered. */
export function missingPermissions(held: readonly string[], method: string, path: string): string[] {
  return determineRequiredPermissions(method, path)
    .filter((p) => !validatePermissions(held, [p]))
    .map((p) => logSafe(renderPermission(p)));
}

export interface Refusal {
  /** The caller's key id (only a prefix is logged). */
  keyId: string | undefined;
  method: string;
  /** The raw request path. */
  path: string;
  /** What the caller lacks, when the refusal knows it. */
  missing?: string[];
  /** What the refused route requires, when what the caller lacks is not known. */
  required?: string[];
  /** The refusal's own message, when it says more than "Permission denied". */
  reason?: string;
  /** For forward auth: the request the proxy asked about (its path, never its query). */
  forwarded?: { method: string; path: string };
}

/**
 * One structured line per 403 `permission_denied` / `forbidden`: who (a key-id prefix), what
 * (method and raw path, escaped and capped), and the missing permission when known. Never a
 * token: a forwarded URI is logged without its query, where a token may travel.
 */
export function logRefusal(log: Logger, level: 'warn' | 'info', r: Refusal): void {
  log[level](
    {
      status: 403,
      key: r.keyId === undefined ? undefined : logSafe(shortId(r.keyId)),
      method: logSafe(r.method),
      path: logSafe(r.path),
      ...(r.missing === undefined ? {} : { missing: r.missing }),
      ...(r.required === undefined ? {} : { required: r.required }),
      ...(r.reason === undefined ? {} : { reason: logSafe(r.reason) }),
      ...(r.forwarded === undefined
        ? {}
        : { forwarded_method: logSafe(r.forwarded.method), forwarded_path: logSafe(r.forwarded.path) }),
    },
    REFUSAL_MESSAGE,
  );
}

/** The `sub` of a token that has already been verified (the refusal came after authentication). */
function subjectOf(token: string | undefined): string | undefined {
  const payload = token?.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const sub = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

const pathOfUri = (uri: string): string => {
  const q = uri.indexOf('?');
  return q === -1 ? uri : uri.slice(0, q);
};

/**
 * A 403 authorisation refusal thrown by a route and answered by the app's error handler: the
 * `/admin` handlers' `forbidden` (the caller, known from the middleware) and forward auth's
 * `permission_denied` on `/auth/validate` (the caller from the token it just verified).
 */
export function logRouteRefusal(log: Logger, c: Context, err: AuthError, adminKeyId: string | undefined): void {
  if (err.code !== 'forbidden' && err.code !== 'permission_denied') return;
  const { method, path } = c.req;
  if (adminKeyId !== undefined) {
    logRefusal(log, 'warn', { keyId: adminKeyId, method, path, reason: err.message });
    return;
  }
  const forwardedMethod = c.req.header('x-forwarded-method');
  const forwardedUri = c.req.header('x-forwarded-uri');
  const token = tokenFromRequest(c.req.header('authorization'), forwardedUri);
  const refusal: Refusal = { keyId: subjectOf(token), method, path };
  if (err.code === 'forbidden') refusal.reason = err.message;
  if (forwardedMethod !== undefined && forwardedUri !== undefined) {
    const forwardedPath = pathOfUri(forwardedUri);
    refusal.forwarded = { method: forwardedMethod, path: forwardedPath };
    refusal.required = determineRequiredPermissions(forwardedMethod, forwardedPath).map((p) => logSafe(renderPermission(p)));
  }
  logRefusal(log, 'info', refusal);
}
