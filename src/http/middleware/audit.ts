import type { Context, MiddlewareHandler } from 'hono';
import type { ClientAddressResolver } from '../../auth/address.js';
import type { Core } from '../../core.js';
import { audit, auditKey, type AuditAction, type AuditResult } from '../../util/audit.js';
import { peerAddress, rawPathOf } from '../request.js';
import { adminCallerOf } from './admin-auth.js';

/** The `/admin` mutations that leave an audit line, by method and route pattern. */
const ACTIONS = new Map<string, AuditAction>([
  ['POST /admin/revoke', 'key.revoke'],
  ['POST /admin/keys', 'account.create'],
  ['DELETE /admin/keys/:key_id', 'root_key.revoke'],
  ['DELETE /admin/keys/:key_id/clients/:client_id', 'client_key.revoke'],
  ['POST /admin/client-key', 'client_key.mint'],
  ['PUT /admin/keys/:key_id/permissions', 'permissions.update'],
  ['POST /admin/passkeys', 'passkey.register'],
  ['DELETE /admin/passkeys/:credential_id', 'passkey.delete'],
  ['PUT /admin/second-factor', 'second_factor.update'],
  ['POST /admin/totp/confirm', 'totp.enrol'],
  ['DELETE /admin/sessions/:sid', 'session.end'],
  ['POST /admin/sessions/revoke-all', 'session.end_all'],
]);

/** What a handler knows that the middleware does not: the target in the body, a 200 that refuses. */
export interface AuditNote {
  action?: AuditAction;
  target?: string;
  result?: AuditResult;
  reason?: string;
  details?: Record<string, unknown>;
}

const notes = new WeakMap<Context, AuditNote>();

/** The audit note of this request; a throwaway one outside the audited routes. */
export function auditNote(c: Context): AuditNote {
  return notes.get(c) ?? {};
}

const decoded = (segment: string | undefined): string | undefined => {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/** The key a path-parameter route acts on, from the raw path (known even when the middleware refused). */
function pathTarget(route: string, path: string): { target?: string; details?: Record<string, unknown> } {
  const parts = path.split('/'); // ['', 'admin', 'keys', key_id, …]
  const key = decoded(parts[3]);
  if (route === '/admin/keys/:key_id/clients/:client_id') {
    const client = decoded(parts[5]);
    return {
      ...(client === undefined ? {} : { target: auditKey(client) }),
      ...(key === undefined ? {} : { details: { parent: auditKey(key) } }),
    };
  }
  // A session id is as much a bearer secret's handle as a key id: logged as a prefix too.
  if ((route.includes(':key_id') || route.includes(':sid')) && key !== undefined) return { target: auditKey(key) };
  return {};
}

export interface AdminAuditOptions {
  core: Core;
  addresses: ClientAddressResolver;
  matchRoute: (path: string) => string | undefined;
}

/**
 * One audit line (src/util/audit.ts) per `/admin` mutation, whatever its answer: registered in
 * front of the `/admin` middleware, so a 401 or 403 refusal there is recorded too. The result
 * follows the status (2xx ok, 4xx refused, 5xx error) unless the handler said otherwise (the
 * last-admin refusals answer 200 with `success: false`).
 */
export function adminAudit(opts: AdminAuditOptions): MiddlewareHandler {
  const { core, addresses, matchRoute } = opts;
  return async function auditMiddleware(c, next) {
    const path = rawPathOf(c.req.url);
    const route = matchRoute(path);
    const action = route === undefined ? undefined : ACTIONS.get(`${c.req.method} ${route}`);
    if (route === undefined || action === undefined) return next();
    const note: AuditNote = {};
    notes.set(c, note);
    await next();

    const status = c.res.status;
    const result = note.result ?? (status >= 500 ? 'error' : status >= 400 ? 'refused' : 'ok');
    let reason = note.reason;
    if (reason === undefined && result !== 'ok') {
      reason = c.error?.message ?? c.res.headers.get('x-auth-error') ?? `status ${status}`;
    }
    const fromPath = pathTarget(route, path);
    const details = { ...fromPath.details, ...note.details };
    const caller = adminCallerOf(c);
    const peer = peerAddress(c);
    audit(core.log, {
      action: note.action ?? action,
      actor: caller === undefined ? undefined : { keyId: caller.keyId },
      target: note.target ?? fromPath.target,
      client: addresses.resolve(peer, c.req.header('x-forwarded-for')) ?? peer,
      result,
      reason,
      status,
      ...(Object.keys(details).length > 0 ? { details } : {}),
    });
  };
}
