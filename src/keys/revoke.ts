import type { UserStore } from '../providers/user-record.js';
import type { SecondFactorStore } from '../second-factor/records.js';
import type { BatchOp } from '../storage/store.js';
import type { RevokeReason } from '../tokens/session.js';
import type { SessionManager } from '../tokens/sessions.js';
import type { KeyRecord } from './key.js';
import type { KeyManager } from './key-manager.js';

/**
 * Ops that revoke a key and end every live session of it, to be written in one atomic batch,
 * so every entry point answers 403 token_revoked from the same instant (wire §4.7).
 */
export async function revokeKeyOps(
  keys: KeyManager,
  sessions: SessionManager,
  id: string,
  key: KeyRecord,
  reason: RevokeReason,
  now: number,
): Promise<BatchOp[]> {
  const ops: BatchOp[] = [];
  if (key.revoked_at === null) ops.push(keys.putOp(id, { ...key, revoked_at: now }));
  ops.push(...(await sessions.revokeAllOps(id, reason, now)));
  return ops;
}

/**
 * Ops that revoke every client key minted under a key — directly, or by a client key it minted,
 * and so on — with their sessions. Authority flows down that chain, so it ends with it.
 */
export async function revokeClientsOps(
  keys: KeyManager,
  sessions: SessionManager,
  rootId: string,
  reason: RevokeReason,
  now: number,
): Promise<BatchOp[]> {
  const ops: BatchOp[] = [];
  const seen = new Set<string>([rootId]);
  const queue = [rootId];
  for (let parentId = queue.shift(); parentId !== undefined; parentId = queue.shift()) {
    for (const clientId of await keys.clientIdsOf(parentId)) {
      if (seen.has(clientId)) continue;
      seen.add(clientId);
      queue.push(clientId);
      const client = await keys.getClient(clientId);
      if (client) ops.push(...(await revokeKeyOps(keys, sessions, clientId, client, reason, now)));
    }
  }
  return ops;
}

/**
 * Ops deleting the passkeys and second-factor records of the accounts whose root key is `keyId`
 * (issue 13): a revoked key's passkeys sign in no more, so they go with it, and the same
 * authenticator can be registered again for the account's next key.
 */
export async function secondFactorsOfKeyOps(
  users: Pick<UserStore, 'usernamesOfKey'>,
  factors: SecondFactorStore,
  keyId: string,
): Promise<BatchOp[]> {
  const ops: BatchOp[] = [];
  for (const username of await users.usernamesOfKey(keyId)) ops.push(...(await factors.keyOps(username, keyId)));
  return ops;
}

/** What a batch of revocation ops revokes, for the metrics (keys by type, sessions). */
export function countRevocations(ops: readonly BatchOp[]): { root: number; client: number; sessions: number } {
  const out = { root: 0, client: 0, sessions: 0 };
  for (const op of ops) {
    if (op.key.startsWith('root_key:')) out.root++;
    else if (op.key.startsWith('client_key:')) out.client++;
    else if (op.key.startsWith('session:')) out.sessions++;
  }
  return out;
}
