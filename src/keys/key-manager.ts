import { randomBytes } from 'node:crypto';
import { getJson, putOp, scanIndexIds, type BatchOp, type Store } from '../storage/store.js';
import { memoize } from '../util/memo.js';
import { clientKeyKey, normaliseKey, rootClientsPrefix, rootKeyKey, type KeyRecord } from './key.js';

// Every authenticated request peeks with the same few ids: reuse the store key strings.
const rootKeyName = memoize(rootKeyKey);
const clientKeyName = memoize(clientKeyKey);

/** Root and client key records and the index of client keys per root key (wire §6.1–6.2). */
export class KeyManager {
  constructor(private readonly store: Store) {}

  static newRootKeyId(): string {
    return randomBytes(32).toString('hex');
  }

  async getRoot(id: string): Promise<KeyRecord | undefined> {
    const raw = await getJson<KeyRecord>(this.store, rootKeyKey(id));
    return raw && normaliseKey(raw);
  }

  async getClient(id: string): Promise<KeyRecord | undefined> {
    const raw = await getJson<KeyRecord>(this.store, clientKeyKey(id));
    return raw && normaliseKey(raw);
  }

  /** The key if it is cached (no I/O), else undefined: then ask get(). Records are stored normalised. */
  peek(id: string): KeyRecord | undefined {
    return this.store.peekJson?.<KeyRecord>(rootKeyName(id)) ?? this.store.peekJson?.<KeyRecord>(clientKeyName(id));
  }

  /** A token's `sub` may name either kind; root keys are looked up first. */
  async get(id: string): Promise<KeyRecord | undefined> {
    return (await this.getRoot(id)) ?? (await this.getClient(id));
  }

  putOp(id: string, key: KeyRecord): BatchOp {
    return putOp(key.key_type === 'Root' ? rootKeyKey(id) : clientKeyKey(id), normaliseKey(key));
  }

  async listRoot(): Promise<Array<[string, KeyRecord]>> {
    return (await this.store.scan('root_key:')).map(([k, v]) => [
      k.slice('root_key:'.length),
      normaliseKey(JSON.parse(Buffer.from(v).toString('utf8')) as KeyRecord),
    ]);
  }

  /** Client ids minted by a root key, revoked ones included. */
  clientIdsOf(rootId: string): Promise<string[]> {
    return scanIndexIds(this.store, rootClientsPrefix(rootId));
  }
}
