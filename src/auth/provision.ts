import type { Core } from '../core.js';
import { isValidKey, newRootKey, type KeyRecord } from '../keys/key.js';
import { KeyManager } from '../keys/key-manager.js';
import { countRevocations, revokeClientsOps, revokeKeyOps } from '../keys/revoke.js';
import type { BatchOp } from '../storage/store.js';
import { nowSeconds } from '../util/clock.js';
import { syncDummyCost } from './dummy-cost.js';
import { logSafe, shortId } from '../util/logger.js';
import { canonicalUsername, findUser } from './username.js';

export class ProvisionError extends Error {
  override readonly name = 'ProvisionError';
}

export interface ProvisionOptions {
  /** The root key's `public_key`; default: the name the account is stored under. */
  publicKey?: string;
  authMethod?: string;
  nodeUrl?: string | null;
  /** Startup and set-admin wait for a hashing slot; requests may be refused with 503. */
  wait?: boolean;
}

export interface ProvisionResult {
  keyId: string;
  outcome: 'created' | 'unchanged' | 'updated' | 'password_changed' | 'replaced';
}

const codePoints = (s: string): number => [...s].length;

/**
 * Creates or updates a root account (wire §7.1): shared by startup provisioning, `set-admin`
 * and `POST /admin/keys`. A password change keeps the key id and ends every session of the
 * account and of the client keys it minted; its passkeys and second factor stay (they are what
 * protects an account whose password leaked; `set-admin --reset-second-factor` removes them).
 * A replaced account (new key id) starts with no second-factor records at all. The username is normalised first
 * (`canonicalUsername`, src/auth/username.ts): an invalid one is a ProvisionError naming why, and
 * a new account is stored under the canonical name.
 */
export async function provision(
  core: Core,
  username: string,
  password: string,
  options: ProvisionOptions = {},
): Promise<ProvisionResult> {
  const result = await provisionAccount(core, username, password, options);
  if (result.outcome !== 'unchanged' && result.outcome !== 'updated') await syncDummyCost(core);
  return result;
}

async function provisionAccount(
  core: Core,
  username: string,
  password: string,
  options: ProvisionOptions,
): Promise<ProvisionResult> {
  const { min_password_length: min, max_password_length: max } = core.config.user_password;
  if (username.length === 0) throw new ProvisionError('admin username must not be empty');
  const canonical = canonicalUsername(username);
  if (!canonical.ok) throw new ProvisionError(canonical.reason);
  const length = codePoints(password);
  if (length < min) throw new ProvisionError(`Password must be at least ${min} characters long`);
  if (length > max) throw new ProvisionError(`Password must be at most ${max} characters long`);

  const authMethod = options.authMethod ?? 'user_password';
  const nodeUrl = options.nodeUrl ?? null;
  const hashing = <T>(fn: () => Promise<T>): Promise<T> => (options.wait ? core.hashPool.runWaiting(fn) : core.hashPool.run(fn));

  return core.accountLock.run(async () => {
    const now = nowSeconds(core.clock);
    // New accounts are stored under the canonical name; an existing one is found under the exact
    // spelling first (a legacy record the start-up migration left because of a collision), then
    // the canonical one, and updated where it is.
    const found = await findUser(core.users, username, canonical.name);
    const name = found?.name ?? canonical.name;
    const user = found?.record;
    const publicKey = options.publicKey ?? name;
    const existing = user ? await core.keys.getRoot(user.key_id) : undefined;

    if (user && existing && isValidKey(existing, now)) {
      const samePassword = await hashing(() => core.hasher.verify(user.password_hash, password));
      const fieldsSame =
        existing.public_key === publicKey &&
        existing.auth_method === authMethod &&
        (existing.node_url ?? null) === nodeUrl &&
        existing.permissions.includes('admin');
      if (samePassword && fieldsSame) return { keyId: user.key_id, outcome: 'unchanged' as const };

      const updatedKey = withFields(existing, publicKey, authMethod, nodeUrl);
      const ops: BatchOp[] = [core.keys.putOp(user.key_id, updatedKey)];
      if (samePassword) {
        await core.store.batch(ops);
        return { keyId: user.key_id, outcome: 'updated' as const };
      }
      const hash = await hashing(() => core.hasher.hash(password));
      ops.push(core.users.putOp(name, { ...user, password_hash: hash, updated_at: now }));
      await core.sessionLock.run(async () => {
        ops.push(...(await core.sessions.revokeAllOps(user.key_id, 'password_change', now)));
        ops.push(...(await revokeClientsOps(core.keys, core.sessions, user.key_id, 'password_change', now)));
        await core.store.batch(ops);
      });
      countPasswordChange(core, ops);
      core.log.info({ user: logSafe(name), key: shortId(user.key_id) }, 'password changed; sessions revoked');
      return { keyId: user.key_id, outcome: 'password_changed' as const };
    }

    const hash = await hashing(() => core.hasher.hash(password));
    const keyId = KeyManager.newRootKeyId();
    const key = newRootKey({ publicKey, authMethod, permissions: ['admin'], nodeUrl, now });
    const ops: BatchOp[] = [
      core.keys.putOp(keyId, key),
      core.users.putOp(name, {
        key_id: keyId,
        password_hash: hash,
        created_at: user?.created_at ?? now,
        updated_at: now,
      }),
    ];
    await core.sessionLock.run(async () => {
      if (user) {
        // The old key is missing, revoked or expired: never resurrect it, end what it left live.
        if (existing) {
          ops.push(...(await revokeKeyOps(core.keys, core.sessions, user.key_id, existing, 'password_change', now)));
        }
        ops.push(...(await revokeClientsOps(core.keys, core.sessions, user.key_id, 'password_change', now)));
        // A new key for the username starts without second factors: the old key's passkeys,
        // TOTP seed, recovery codes and policy are deleted, so none carries over (issue 13).
        ops.push(...(await core.secondFactors.resetOps(name)));
      }
      await core.store.batch(ops);
    });
    countPasswordChange(core, ops);
    core.log.info({ user: logSafe(name), key: shortId(keyId) }, user ? 'account re-created' : 'account created');
    return { keyId, outcome: user ? ('replaced' as const) : ('created' as const) };
  });
}

/** Root-key records in these ops are the account's own (updated or revoked); count the rest. */
function countPasswordChange(core: Core, ops: readonly BatchOp[]): void {
  const counted = countRevocations(ops.filter((op) => !op.key.startsWith('root_key:')));
  core.metrics.keysRevoked('client', counted.client);
  core.metrics.sessionsRevoked('password_change', counted.sessions);
}

function withFields(key: KeyRecord, publicKey: string, authMethod: string, nodeUrl: string | null): KeyRecord {
  const permissions = key.permissions.includes('admin') ? key.permissions : [...key.permissions, 'admin'];
  const { node_url: _drop, ...rest } = key;
  return { ...rest, public_key: publicKey, auth_method: authMethod, permissions, ...(nodeUrl ? { node_url: nodeUrl } : {}) };
}

/** True when some user record points at a valid root key (an "account exists"). */
export async function accountExists(core: Core): Promise<boolean> {
  const now = nowSeconds(core.clock);
  for (const [, user] of await core.users.list()) {
    const key = await core.keys.getRoot(user.key_id);
    if (key && isValidKey(key, now)) return true;
  }
  return false;
}
