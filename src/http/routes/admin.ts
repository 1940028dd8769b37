import type { Context, Hono } from 'hono';
import { checkBearer } from '../../auth/bearer.js';
import { provision, ProvisionError } from '../../auth/provision.js';
import { sanitizeIdentifier, sanitizeString } from '../../auth/sanitize.js';
import { canonicalUsername } from '../../auth/username.js';
import { AuthError } from '../../errors.js';
import {
  keyPermissions,
  listRootKeys,
  revokeAnyKey,
  revokeClientKey,
  revokeRootKey,
  updateKeyPermissions,
} from '../../keys/admin-ops.js';
import { listClientKeys, mintClientKey } from '../../keys/client-keys.js';
import {
  decodeSessionCursor,
  endAccountSession,
  endAllAccountSessions,
  listAccountSessions,
  type SessionCursor,
} from '../../tokens/account-sessions.js';
import type { AuthService } from '../../service.js';
import { describeJson } from '../../util/describe-json.js';
import { nowSeconds } from '../../util/clock.js';
import { VERSION } from '../../version.js';
import { readJsonBody } from '../body.js';
import { adminAuth, adminCaller } from '../middleware/admin-auth.js';
import { adminAudit, auditNote } from '../middleware/audit.js';
import { auditKey, auditName } from '../../util/audit.js';
import { logSafe } from '../../util/logger.js';
import { hostSource, methodNotAllowed, peerAddress } from '../request.js';
import { ok, send } from '../respond.js';
import {
  clientKeyBody,
  passkeyRegisterBody,
  revokeAllSessionsBody,
  revokeBody,
  SESSIONS_PAGE,
  secondFactorBody,
  sessionsQuery,
  totpConfirmBody,
  updatePermissionsBody,
} from '../schemas.js';
import { accountOfKey, requireRecentSignIn } from '../../second-factor/account.js';
import { finishRegistration, passkeyView, registrationOptions } from '../../second-factor/passkeys.js';
import { deletePasskey, secondFactorStatus, setSecondFactor } from '../../second-factor/policy.js';
import { confirmTotp, startTotpEnrolment } from '../../second-factor/totp.js';
import { allowOf, matchAdminRoute } from './admin-table.js';

const tokenPair = (pair: { access_token: string; refresh_token: string }) => ({
  access_token: pair.access_token,
  refresh_token: pair.refresh_token,
  error: null,
});

/** A permission list for the audit line: escaped, at most 32 entries. */
const auditList = (list: readonly string[] | null | undefined): string[] => (list ?? []).slice(0, 32).map(logSafe);

/** Path parameters, percent-decoded by the router (wire §1.2). */
const param = (c: Context, name: string): string => c.req.param(name) ?? '';

/** `?limit=&cursor=` of `GET /admin/sessions` (schemas.ts `sessionsQuery`); 400 for anything else. */
function sessionPageOf(c: Context): { limit: number; after: SessionCursor | undefined } {
  const query = sessionsQuery.safeParse({ limit: c.req.query('limit'), cursor: c.req.query('cursor') });
  if (!query.success) {
    throw new AuthError('bad_request', `Invalid limit: expected an integer from 1 to ${SESSIONS_PAGE.max}`);
  }
  const { limit, cursor } = query.data;
  const after = cursor === undefined ? undefined : decodeSessionCursor(cursor);
  if (cursor !== undefined && after === undefined) {
    throw new AuthError('bad_request', 'Invalid cursor: pass the next_cursor of the previous page unchanged');
  }
  return { limit: limit === undefined ? SESSIONS_PAGE.default : Number(limit), after };
}

/** The protected `/admin/*` routes (wire §5), each path with its explicit 405. */
export function registerAdminRoutes(app: Hono, svc: AuthService): void {
  const { core } = svc;
  const { config } = core;

  // The audit line wraps the /admin middleware, so its 401s and 403s are recorded too.
  app.use('/admin/*', adminAudit({ core, addresses: svc.addresses, matchRoute: matchAdminRoute }));
  app.use('/admin/*', adminAuth({ core, matchRoute: matchAdminRoute }));
  const refuse = (path: string) => app.all(path, methodNotAllowed(allowOf(path)));

  // §5.2
  app.post('/admin/revoke', async (c) => {
    const body = await readJsonBody(c, revokeBody);
    const id = sanitizeIdentifier(body.client_id);
    if (id === '') throw new AuthError('bad_request', 'Client ID must contain valid characters');
    const note = auditNote(c);
    note.target = auditKey(id);
    const outcome = await revokeAnyKey(core, id);
    if (!outcome.success) Object.assign(note, { result: 'refused', reason: outcome.message });
    return ok(c, outcome);
  });
  refuse('/admin/revoke');

  // §5.3, §5.4
  app.get('/admin/keys', async (c) => ok(c, await listRootKeys(core)));
  app.post('/admin/keys', (c) => createRootAccount(c, svc));
  refuse('/admin/keys');

  // §5.6: registered before `/admin/keys/:key_id`, so the static route wins for every method.
  app.get('/admin/keys/clients', async (c) => {
    let rows;
    try {
      rows = await listClientKeys(core.store, nowSeconds(core.clock));
    } catch (e) {
      throw new AuthError('internal', 'Failed to list client keys', { cause: e });
    }
    return ok(c, rows);
  });
  refuse('/admin/keys/clients');

  // §5.7
  app.post('/admin/client-key', async (c) => {
    const body = await readJsonBody(c, clientKeyBody);
    let caller;
    try {
      caller = await checkBearer(core, c.req.header('authorization'), hostSource(c, core.config));
    } catch {
      throw new AuthError('unauthorized', 'Invalid token');
    }
    const contextId = sanitizeIdentifier(body.context_id ?? '');
    const note = auditNote(c);
    note.details = { context_id: logSafe(contextId) };
    const { clientId, pair } = await mintClientKey(
      core,
      { keyId: caller.keyId, sid: caller.sid, permissions: caller.permissions },
      contextId,
      sanitizeIdentifier(body.context_identity ?? ''),
      body,
      svc.addresses.resolve(peerAddress(c), c.req.header('x-forwarded-for')),
    );
    note.target = auditKey(clientId);
    return ok(c, tokenPair(pair));
  });
  refuse('/admin/client-key');

  // §5.11, §5.12
  app.get('/admin/identity', (c) =>
    ok(c, {
      service: 'calimero-auth',
      version: VERSION,
      authentication_mode: 'forward',
      providers: [
        ...(config.providers.user_password ? ['user_password'] : []),
        ...(config.providers.passkey.enabled ? ['passkey'] : []),
      ],
    }),
  );
  refuse('/admin/identity');
  app.get('/admin/metrics', (c) => ok(c, core.metrics.admin.snapshot()));
  refuse('/admin/metrics');

  // The account holder's own sessions (additions, docs/compatibility.md): no permission beyond a
  // valid bearer; the scope is the caller's key and the client keys below it.
  app.get('/admin/sessions', async (c) => ok(c, await listAccountSessions(core, adminCaller(c), sessionPageOf(c))));
  refuse('/admin/sessions');
  app.post('/admin/sessions/revoke-all', async (c) => {
    const bodyless = c.req.header('content-type') === undefined && (await c.req.text()) === '';
    const body = bodyless ? {} : await readJsonBody(c, revokeAllSessionsBody);
    const revoked = await endAllAccountSessions(core, adminCaller(c), body.keep_current === true);
    auditNote(c).details = { revoked, keep_current: body.keep_current === true };
    return ok(c, { revoked });
  });
  refuse('/admin/sessions/revoke-all');
  app.delete('/admin/sessions/:sid', async (c) => ok(c, await endAccountSession(core, adminCaller(c), param(c, 'sid'))));
  refuse('/admin/sessions/:sid');

  // Passkeys and second factors of the caller's own account (issue 13): no permission beyond a
  // valid bearer of the account's root key (src/second-factor/account.ts). Changes also need a
  // recent sign-in behind the token (second_factor.reauth_seconds); reading does not.
  const account = (c: Context) => accountOfKey(core, adminCaller(c).keyId);
  const changingAccount = async (c: Context) => {
    const found = await account(c);
    await requireRecentSignIn(core, adminCaller(c).sid);
    return found;
  };
  app.get('/admin/passkeys', async (c) => {
    const { username, keyId } = await account(c);
    return ok(c, { passkeys: (await core.secondFactors.passkeys(username, keyId)).map(passkeyView) });
  });
  app.post('/admin/passkeys', async (c) => {
    const body = await readJsonBody(c, passkeyRegisterBody);
    const view = await finishRegistration(core, await changingAccount(c), body);
    auditNote(c).details = { credential: logSafe(view.credential_id.slice(0, 12)) };
    return ok(c, view);
  });
  refuse('/admin/passkeys');
  app.post('/admin/passkeys/options', async (c) => ok(c, await registrationOptions(core, await changingAccount(c))));
  refuse('/admin/passkeys/options');
  app.delete('/admin/passkeys/:credential_id', async (c) => {
    const id = param(c, 'credential_id');
    auditNote(c).details = { credential: logSafe(id.slice(0, 12)) };
    await deletePasskey(core, await changingAccount(c), id);
    return ok(c, { deleted: true });
  });
  refuse('/admin/passkeys/:credential_id');
  app.get('/admin/second-factor', async (c) => ok(c, await secondFactorStatus(core, await account(c))));
  app.put('/admin/second-factor', async (c) => {
    const body = await readJsonBody(c, secondFactorBody);
    auditNote(c).details = { second_factor: body.second_factor };
    return ok(c, await setSecondFactor(core, await changingAccount(c), body.second_factor));
  });
  refuse('/admin/second-factor');
  app.post('/admin/totp', async (c) => ok(c, await startTotpEnrolment(core, await changingAccount(c))));
  refuse('/admin/totp');
  app.post('/admin/totp/confirm', async (c) => {
    const body = await readJsonBody(c, totpConfirmBody);
    return ok(c, await confirmTotp(core, await changingAccount(c), body.code));
  });
  refuse('/admin/totp/confirm');

  // §5.5
  app.delete('/admin/keys/:key_id', async (c) => {
    const outcome = await revokeRootKey(core, param(c, 'key_id'));
    if ('status' in outcome) Object.assign(auditNote(c), { result: 'refused', reason: outcome.message });
    return ok(c, outcome);
  });
  refuse('/admin/keys/:key_id');

  // §5.8
  app.delete('/admin/keys/:key_id/clients/:client_id', async (c) =>
    ok(c, await revokeClientKey(core, param(c, 'key_id'), param(c, 'client_id'))),
  );
  refuse('/admin/keys/:key_id/clients/:client_id');

  // §5.9, §5.10
  app.get('/admin/keys/:key_id/permissions', async (c) => ok(c, { permissions: await keyPermissions(core, param(c, 'key_id')) }));
  app.put('/admin/keys/:key_id/permissions', async (c) => {
    const body = await readJsonBody(c, updatePermissionsBody);
    auditNote(c).details = { add: auditList(body.add), remove: auditList(body.remove) };
    const permissions = await updateKeyPermissions(core, adminCaller(c).permissions, param(c, 'key_id'), body);
    return ok(c, { permissions });
  });
  refuse('/admin/keys/:key_id/permissions');
}

// ── POST /admin/keys (wire §5.4) ─────────────────────────────────────────────────────────────

const JSON_TYPE = /^application\/(?:json|[^\s/;]+\+json)\s*(?:;.*)?$/i;
const TEXT = { 'content-type': 'text/plain; charset=utf-8' };

interface CreateKeyBody {
  public_key: string;
  auth_method: string;
  provider_data: unknown;
  target_node_url: string | null;
}

/**
 * Plain axum `Json` extraction, as Rust does for this route: its failures are plain text
 * (415 / 400 / 422, wire §2.1), and there are no "must not be empty" rules.
 */
async function extractCreateKeyBody(c: Context): Promise<CreateKeyBody | Response> {
  const contentType = c.req.header('content-type');
  if (!contentType || !JSON_TYPE.test(contentType.trim())) {
    return send(c, 'Expected request with `Content-Type: application/json`', 415, TEXT);
  }
  let text: string;
  try {
    text = await c.req.text();
  } catch (e) {
    return send(c, `Failed to buffer the request body: ${(e as Error).message}`, 400, TEXT);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return send(c, `Failed to parse the request body as JSON: ${(e as Error).message}`, 400, TEXT);
  }
  const deserialize = (detail: string) =>
    send(c, `Failed to deserialize the JSON body into the target type: ${detail}`, 422, TEXT);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return deserialize(`invalid type: ${describeJson(value)}, expected struct AddPublicKeyRequest`);
  }
  const obj = value as Record<string, unknown>;
  for (const field of ['public_key', 'auth_method'] as const) {
    const v = obj[field];
    if (v === undefined) return deserialize(`missing field \`${field}\``);
    if (typeof v !== 'string') return deserialize(`${field}: invalid type: ${describeJson(v)}, expected a string`);
  }
  if (!('provider_data' in obj)) return deserialize('missing field `provider_data`');
  const target = obj.target_node_url;
  if (target !== undefined && target !== null && typeof target !== 'string') {
    return deserialize(`target_node_url: invalid type: ${describeJson(target)}, expected a string`);
  }
  return {
    public_key: obj.public_key as string,
    auth_method: obj.auth_method as string,
    provider_data: obj.provider_data,
    target_node_url: typeof target === 'string' ? target : null,
  };
}

async function createRootAccount(c: Context, svc: AuthService): Promise<Response> {
  const { core } = svc;
  const body = await extractCreateKeyBody(c);
  if (body instanceof Response) return body;

  const authMethod = sanitizeIdentifier(body.auth_method);
  const publicKey = sanitizeString(body.public_key);
  if (authMethod === '') throw new AuthError('bad_request', 'Authentication method must contain valid characters');
  if (publicKey === '') throw new AuthError('bad_request', 'Public key cannot be empty after sanitization');

  // The provider is chosen by exact name among the enabled ones; only user_password exists.
  if (authMethod !== 'user_password' || !core.config.providers.user_password) {
    throw new AuthError('internal', 'Provider not found');
  }
  const data = body.provider_data;
  const field = (name: string): unknown =>
    typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>)[name] : undefined;
  const username = field('username');
  const password = field('password');
  if (typeof username !== 'string' || username === '') {
    throw new AuthError('internal', "Missing or invalid 'username' in provider data");
  }
  if (typeof password !== 'string') throw new AuthError('internal', "Missing or invalid 'password' in provider data");
  // Bad input, refused before any hashing: `username contains a control character (U+0000)`…
  const note = auditNote(c);
  note.target = auditName(username);
  const canonical = canonicalUsername(username);
  if (!canonical.ok) throw new AuthError('bad_request', canonical.reason);

  let outcome;
  try {
    ({ outcome } = await provision(core, username, password, {
      publicKey,
      authMethod,
      nodeUrl: body.target_node_url || null,
    }));
  } catch (e) {
    if (e instanceof AuthError) throw e; // busy: 503 + Retry-After (wire §8.2)
    if (e instanceof ProvisionError) throw new AuthError('internal', e.message, { cause: e });
    core.log.error({ err: (e as Error).message }, 'POST /admin/keys: provisioning failed');
    throw new AuthError('internal', `Failed to store root key: ${(e as Error).message}`, { cause: e });
  }
  note.action = outcome === 'created' || outcome === 'replaced' ? 'account.create' : 'account.update';
  note.details = { outcome };
  return ok(c, { status: true, message: outcome === 'created' ? 'Key was created' : 'Key was updated' });
}
