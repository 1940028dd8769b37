import { randomUUID } from 'node:crypto';
import type { Core } from '../core.js';
import { chainProblem } from './ancestry.js';
import { AuthError } from '../errors.js';
import { checkClientKeyParent, clientKeyPermissions, holdsLiteralAdmin } from '../permissions/index.js';
import { decodeJson, type BatchOp, type Store } from '../storage/store.js';
import type { TokenPair } from '../tokens/claims.js';
import { openSessionPair } from '../tokens/session-pair.js';
import { nowSeconds } from '../util/clock.js';
import { isValidKey, normaliseKey, rootClientsPrefix, type KeyRecord } from './key.js';
import { keyWriteLock } from './locks.js';

/** One row of `GET /admin/keys/clients` (wire §5.6), in the documented key order. */
export interface ClientKeyRow {
  client_id: string;
  root_key_id: string;
  name: string;
  permissions: string[];
  created_at: number;
  revoked_at: number | null;
  is_valid: boolean;
}

const CLIENT_PREFIX = 'client_key:';

/** Every client key, revoked and expired ones included, ordered by client id (byte order). */
export async function listClientKeys(store: Store, now: number): Promise<ClientKeyRow[]> {
  const rows: ClientKeyRow[] = [];
  for (const [k, v] of await store.scan(CLIENT_PREFIX)) {
    const key = normaliseKey(decodeJson<KeyRecord>(v));
    rows.push({
      client_id: k.slice(CLIENT_PREFIX.length),
      root_key_id: key.root_key_id ?? '',
      name: key.name ?? '',
      permissions: [...key.permissions],
      created_at: key.created_at,
      revoked_at: key.revoked_at,
      is_valid: isValidKey(key, now),
    });
  }
  return rows;
}

/** The empty index entry that lists a client key under the root key that minted it (wire §6.1). */
export function rootClientIndexOp(rootId: string, clientId: string): BatchOp {
  return { type: 'put', key: `${rootClientsPrefix(rootId)}${clientId}`, value: new Uint8Array() };
}

export interface MintRequest {
  context_id?: string | null | undefined;
  context_identity?: string | null | undefined;
  permissions?: string[] | null | undefined;
  target_node_url?: string | null | undefined;
}

/**
 * `POST /admin/client-key` steps 3–9 (wire §5.7), after the body was extracted, the bearer
 * re-checked and the context ids sanitised. The caller (root key, or a client key holding
 * `admin`) becomes the parent. The key, its index entry and its first session are written in
 * one durable batch, only once the pair is signed, so a failure leaves no orphan key behind.
 */
export async function mintClientKey(
  core: Core,
  caller: { keyId: string; sid: string; permissions: readonly string[] },
  contextId: string,
  contextIdentity: string,
  req: MintRequest,
  /** The client address of the minting request, kept on the new session (session list). */
  address?: string,
): Promise<{ clientId: string; pair: TokenPair }> {
  if (!holdsLiteralAdmin(caller.permissions)) {
    throw new AuthError('forbidden', 'Token does not have admin permissions');
  }
  return keyWriteLock(core, async () => {
    const now = nowSeconds(core.clock);
    let parent: KeyRecord | undefined;
    try {
      parent = await core.keys.get(caller.keyId);
    } catch (e) {
      throw new AuthError('internal', 'Failed to get root key', { cause: e });
    }
    if (!parent || !isValidKey(parent, now)) throw new AuthError('not_found', 'Root key not found');
    // The bearer check ran before this lock: a password change or logout may have ended the
    // caller's session meanwhile, and a key minted from a dead session must not survive it.
    const session = await core.sessions.get(caller.sid);
    if (!session || session.revoked_at !== null) throw new AuthError('unauthorized', 'Invalid token');
    // A client key minting keys passes on only what its own chain still grants.
    if ((await chainProblem(core, parent, now)) !== undefined) throw new AuthError('not_found', 'Root key not found');

    const wanted = clientKeyPermissions(parent, contextId, contextIdentity, req.permissions ?? []);
    if (!wanted.ok) throw new AuthError('bad_request', wanted.message);
    const { permissions } = wanted;
    const nodeUrl = req.target_node_url ?? undefined;

    const clientId = randomUUID();
    const name = `Context Client - ${contextId} (${contextIdentity})`;
    const record = normaliseKey({
      key_type: 'Client',
      public_key: null,
      auth_method: null,
      root_key_id: caller.keyId,
      name,
      permissions,
      ...(nodeUrl === undefined ? {} : { node_url: nodeUrl }),
      created_at: now,
      revoked_at: null,
      expires_at: null,
    });
    // The write of a client key checks its parent (permissions.md §9).
    if (checkClientKeyParent(parent, permissions, now) !== undefined) {
      throw new AuthError('internal', 'Failed to store client key');
    }

    let pair: TokenPair;
    let sessionOps: BatchOp[];
    try {
      ({ pair, ops: sessionOps } = await openSessionPair(core, {
        keyId: clientId,
        permissions,
        nodeUrl,
        now,
        origin: { clientName: name, address },
      }));
    } catch (e) {
      core.log.error({ err: (e as Error).message }, 'client-key token generation failed');
      throw new AuthError('internal', 'Failed to generate client tokens', { cause: e });
    }
    try {
      await core.store.batch([core.keys.putOp(clientId, record), rootClientIndexOp(caller.keyId, clientId), ...sessionOps]);
    } catch (e) {
      core.log.error({ err: (e as Error).message }, 'storing a client key failed');
      throw new AuthError('internal', 'Failed to store client key', { cause: e });
    }
    return { clientId, pair };
  });
}
