/**
 * The key operations behind `/admin/*` (wire §5.2–§5.10). Each throws an AuthError carrying the
 * route's exact message; the HTTP layer only extracts bodies and shapes answers. Every
 * read-modify-write of a key runs under `keyWriteLock`, and every revocation ends the key's
 * sessions in the same durable batch (wire §4.7) and is counted in the metrics.
 */
import type { Core } from '../core.js';
import { AuthError } from '../errors.js';
import { sanitizeString } from '../auth/sanitize.js';
import { checkClientKeyParent, checkGrant } from '../permissions/index.js';
import type { BatchOp } from '../storage/store.js';
import { nowSeconds } from '../util/clock.js';
import { isValidKey, type KeyRecord } from './key.js';
import { keyWriteLock } from './locks.js';
import { countRevocations, revokeClientsOps, revokeKeyOps, secondFactorsOfKeyOps } from './revoke.js';

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Revokes `key`, its sessions, and every client key below it with theirs, in one batch (authority
 * flows down the chain, so it ends with it), with a root key's passkeys and second-factor record
 * (deleted), then counts what was revoked.
 */
async function revokeNow(core: Core, id: string, key: KeyRecord, now: number): Promise<void> {
  const ops: BatchOp[] = [
    ...(await revokeKeyOps(core.keys, core.sessions, id, key, 'key_revoked', now)),
    ...(await revokeClientsOps(core.keys, core.sessions, id, 'key_revoked', now)),
    ...(key.key_type === 'Root' ? await secondFactorsOfKeyOps(core.users, core.secondFactors, id) : []),
  ];
  await core.store.batch(ops);
  const counted = countRevocations(ops);
  core.metrics.keysRevoked('root', counted.root);
  core.metrics.keysRevoked('client', counted.client);
  core.metrics.sessionsRevoked('key_revoked', counted.sessions);
}

/**
 * The valid key behind an id, root or client, with the route's own messages: a storage error
 * → 500 `storageError(e)`, an absent, revoked or expired key → 404 `notFound` (wire §5).
 */
async function validKey(
  core: Core,
  id: string,
  now: number,
  notFound: string,
  storageError: (e: unknown) => string,
): Promise<KeyRecord> {
  let key: KeyRecord | undefined;
  try {
    key = await core.keys.get(id);
  } catch (e) {
    throw new AuthError('internal', storageError(e), { cause: e });
  }
  if (!key || !isValidKey(key, now)) throw new AuthError('not_found', notFound);
  return key;
}

/**
 * Whether revoking root key `id` would leave no account able to log in with `admin`: a valid
 * root key holding the literal `admin` that a user record points at (mock keys cannot log in).
 * Only a key that is itself such an admin can be the last one.
 */
async function isLastAdmin(core: Core, id: string, now: number): Promise<boolean> {
  const accounts = new Set((await core.users.list()).map(([, user]) => user.key_id));
  if (!accounts.has(id)) return false;
  const admins = (await core.keys.listRoot()).filter(
    ([keyId, key]) => accounts.has(keyId) && isValidKey(key, now) && key.permissions.includes('admin'),
  );
  return admins.length === 1 && admins[0]?.[0] === id;
}

/** `POST /admin/revoke`'s refusal, in the shape of `DELETE /admin/keys/:key_id`'s (wire §5.5 step 1). */
export interface RevokeOutcome {
  success: boolean;
  message: string;
}

/**
 * `POST /admin/revoke` steps 3–4: any valid key, root or client, by its (sanitised) id. Never
 * the last account able to log in as admin: that is a 200 `success: false`, like the
 * last-root-key refusal of DELETE, and nothing is written.
 */
export async function revokeAnyKey(core: Core, id: string): Promise<RevokeOutcome> {
  return keyWriteLock(core, async () => {
    const now = nowSeconds(core.clock);
    const key = await validKey(core, id, now, 'Key not found', (e) => `Failed to revoke tokens: Storage error: ${messageOf(e)}`);
    let last: boolean;
    try {
      last = key.key_type === 'Root' && (await isLastAdmin(core, id, now));
    } catch (e) {
      throw new AuthError('internal', `Failed to revoke tokens: Storage error: ${messageOf(e)}`, { cause: e });
    }
    if (last) return { success: false, message: LAST_ADMIN_REVOKE };
    try {
      await revokeNow(core, id, key, now);
    } catch (e) {
      throw new AuthError('internal', `Failed to revoke tokens: Storage error: Failed to update key: ${messageOf(e)}`, {
        cause: e,
      });
    }
    return { success: true, message: 'Tokens revoked successfully' };
  });
}

export const LAST_ADMIN_REVOKE = 'Cannot revoke the last admin account';
export const LAST_ADMIN_DELETE = 'Cannot delete the last admin account';

/** One row of `GET /admin/keys` (wire §5.3). */
export interface RootKeyRow {
  key_id: string;
  public_key: string | null;
  auth_method: string | null;
  created_at: number;
  revoked_at: number | null;
  permissions: string[];
}

/** `GET /admin/keys`: every root key (revoked, expired and mock keys included), by key id. */
export async function listRootKeys(core: Core): Promise<RootKeyRow[]> {
  try {
    return (await core.keys.listRoot()).map(([id, key]) => ({
      key_id: id,
      public_key: key.public_key,
      auth_method: key.auth_method,
      created_at: key.created_at,
      revoked_at: key.revoked_at,
      permissions: [...key.permissions],
    }));
  } catch (e) {
    throw new AuthError('internal', messageOf(e), { cause: e });
  }
}

export type DeleteRootOutcome = { status: false; message: string } | { key_id: string; revoked_at: number };

/**
 * `DELETE /admin/keys/:key_id` (wire §5.5). The last-root-key rule runs first, before `key_id`
 * is looked at, and under the lock, so two concurrent deletes cannot revoke the last two keys.
 */
export async function revokeRootKey(core: Core, keyId: string): Promise<DeleteRootOutcome> {
  return keyWriteLock(core, async () => {
    const now = nowSeconds(core.clock);
    let active: number;
    try {
      active = (await core.keys.listRoot()).filter(([, k]) => isValidKey(k, now)).length;
    } catch (e) {
      throw new AuthError('internal', 'Failed to check root keys', { cause: e });
    }
    if (active <= 1) return { status: false as const, message: 'Cannot delete the last active root key' };

    const key = await validKey(core, keyId, now, 'Root key not found', () => 'Failed to get root key');
    if (key.key_type !== 'Root') throw new AuthError('bad_request', 'Not a root key');
    let last: boolean;
    try {
      last = await isLastAdmin(core, keyId, now);
    } catch (e) {
      throw new AuthError('internal', 'Failed to check root keys', { cause: e });
    }
    if (last) return { status: false as const, message: LAST_ADMIN_DELETE };
    try {
      await revokeNow(core, keyId, key, now);
    } catch (e) {
      core.log.error({ err: messageOf(e) }, 'revoking a root key failed');
      throw new AuthError('internal', 'Failed to update root key', { cause: e });
    }
    return { key_id: keyId, revoked_at: now };
  });
}

/**
 * `DELETE /admin/keys/:key_id/clients/:client_id` (wire §5.8). The parent is deliberately not
 * re-validated: revocation must work even when the root key is gone.
 */
export async function revokeClientKey(
  core: Core,
  rootId: string,
  clientId: string,
): Promise<{ message: string; revoked_at: number }> {
  return keyWriteLock(core, async () => {
    const now = nowSeconds(core.clock);
    const key = await validKey(core, clientId, now, 'Client key not found', () => 'Failed to get client key');
    // A root key has no root_key_id, so it never matches.
    if (key.root_key_id === null || key.root_key_id !== rootId) {
      throw new AuthError('bad_request', 'Client key does not belong to specified root key');
    }
    try {
      await revokeNow(core, clientId, key, now);
    } catch (e) {
      core.log.error({ err: messageOf(e) }, 'revoking a client key failed');
      throw new AuthError('internal', 'Failed to revoke client key', { cause: e });
    }
    return { message: 'Client key revoked successfully', revoked_at: now };
  });
}

/** `GET /admin/keys/:key_id/permissions` (wire §5.9): a valid key's current list. */
export async function keyPermissions(core: Core, keyId: string): Promise<string[]> {
  const key = await validKey(core, keyId, nowSeconds(core.clock), 'Key not found', () => 'Failed to get key permissions');
  return [...key.permissions];
}

const cleaned = (entries: readonly string[] | null | undefined): string[] =>
  (entries ?? []).map(sanitizeString).filter((p) => p !== '');

/**
 * `PUT /admin/keys/:key_id/permissions` steps 2–7 (wire §5.10): sanitise, grant-check each
 * addition against the caller's effective permissions, then remove and append. A client key is
 * saved only if its parent is valid and grants the whole new list.
 */
export async function updateKeyPermissions(
  core: Core,
  callerEffective: readonly string[],
  keyId: string,
  change: { add?: readonly string[] | null | undefined; remove?: readonly string[] | null | undefined },
): Promise<string[]> {
  const add = cleaned(change.add);
  const remove = cleaned(change.remove);
  const refusal = checkGrant(callerEffective, add);
  if (refusal !== undefined) {
    throw new AuthError(refusal.status === 400 ? 'bad_request' : 'forbidden', refusal.message);
  }
  return keyWriteLock(core, async () => {
    const now = nowSeconds(core.clock);
    const key = await validKey(core, keyId, now, 'Key not found', () => 'Failed to get key');

    const removing = new Set(remove);
    const final = key.permissions.filter((p) => !removing.has(p));
    const removed = final.length !== key.permissions.length;
    for (const p of add) if (!final.includes(p)) final.push(p);
    if (final.length === 0) throw new AuthError('bad_request', 'Key must have at least one permission');
    if (!removed && add.length === 0) return final;

    const failed = (cause?: unknown) => new AuthError('internal', 'Failed to update key permissions', { cause });
    if (key.key_type === 'Client') {
      let parent: KeyRecord | undefined;
      try {
        parent = key.root_key_id === null ? undefined : await core.keys.get(key.root_key_id);
      } catch (e) {
        throw failed(e);
      }
      const problem = checkClientKeyParent(parent, final, now);
      if (problem?.code === 'parent_lacks_permission') throw new AuthError('bad_request', problem.message);
      if (problem !== undefined) throw failed();
    }
    try {
      await core.store.batch([core.keys.putOp(keyId, { ...key, permissions: final })]);
    } catch (e) {
      core.log.error({ err: messageOf(e) }, 'updating key permissions failed');
      throw failed(e);
    }
    return final;
  });
}
