import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../storage/memory.js';
import type { Store } from '../storage/store.js';
import { SessionManager } from '../tokens/sessions.js';
import type { KeyRecord } from './key.js';
import { KeyManager } from './key-manager.js';
import { clientKeyRecord, KEY_NOW, rootKeyRecord } from '../../test/helpers/keys.js';
import { revokeClientsOps, revokeKeyOps } from './revoke.js';

const NOW = KEY_NOW;
const ROOT_ID = 'c'.repeat(64);

const rootKey: KeyRecord = rootKeyRecord();

const client = (over: Partial<KeyRecord> = {}): KeyRecord => clientKeyRecord(ROOT_ID, over);

function setup() {
  const store = new MemoryStore();
  return { store, keys: new KeyManager(store), sessions: new SessionManager(store) };
}

async function openSession(store: Store, sessions: SessionManager, keyId: string): Promise<string> {
  const { sid, ops } = sessions.openOps(keyId, NOW + 1000, NOW);
  await store.batch(ops);
  return sid;
}

async function addClient(store: Store, keys: KeyManager, id: string, key: KeyRecord): Promise<void> {
  await store.batch([keys.putOp(id, key), { type: 'put', key: `idx:root_clients:${ROOT_ID}:${id}`, value: new Uint8Array() }]);
}

describe('revokeKeyOps', () => {
  it('revokes the key and every live session of it in one batch', async () => {
    const { store, keys, sessions } = setup();
    await store.batch([keys.putOp(ROOT_ID, rootKey)]);
    const s1 = await openSession(store, sessions, ROOT_ID);
    const s2 = await openSession(store, sessions, ROOT_ID);
    const ops = await revokeKeyOps(keys, sessions, ROOT_ID, rootKey, 'key_revoked', NOW + 5);
    expect(ops).toHaveLength(3);
    await store.batch(ops);
    expect((await keys.getRoot(ROOT_ID))?.revoked_at).toBe(NOW + 5);
    for (const sid of [s1, s2]) {
      expect(await sessions.get(sid)).toMatchObject({ revoked_at: NOW + 5, revoked_reason: 'key_revoked' });
    }
  });

  it('an already revoked key keeps its original revoked_at; its live sessions still end', async () => {
    const { store, keys, sessions } = setup();
    const revoked = { ...rootKey, revoked_at: NOW - 100 };
    await store.batch([keys.putOp(ROOT_ID, revoked)]);
    const sid = await openSession(store, sessions, ROOT_ID);
    const ops = await revokeKeyOps(keys, sessions, ROOT_ID, revoked, 'key_revoked', NOW);
    expect(ops.map((o) => o.key)).toEqual([`session:${sid}`]);
  });
});

describe('revokeClientsOps', () => {
  it('revokes every client key of the root (with its sessions), and nothing else', async () => {
    const { store, keys, sessions } = setup();
    await store.batch([keys.putOp(ROOT_ID, rootKey)]);
    await addClient(store, keys, 'cl-1', client());
    await addClient(store, keys, 'cl-2', client({ revoked_at: NOW - 1 }));
    await store.batch([keys.putOp('other', client({ root_key_id: 'x' }))]);
    const rootSid = await openSession(store, sessions, ROOT_ID);
    const c1Sid = await openSession(store, sessions, 'cl-1');
    const otherSid = await openSession(store, sessions, 'other');

    await store.batch(await revokeClientsOps(keys, sessions, ROOT_ID, 'password_change', NOW + 7));

    expect((await keys.getClient('cl-1'))?.revoked_at).toBe(NOW + 7);
    expect((await keys.getClient('cl-2'))?.revoked_at).toBe(NOW - 1);
    expect((await keys.getClient('other'))?.revoked_at).toBeNull();
    expect((await keys.getRoot(ROOT_ID))?.revoked_at).toBeNull();
    expect(await sessions.get(c1Sid)).toMatchObject({ revoked_at: NOW + 7, revoked_reason: 'password_change' });
    expect(await sessions.get(rootSid)).toMatchObject({ revoked_at: null });
    expect(await sessions.get(otherSid)).toMatchObject({ revoked_at: null });
  });

  it('skips an index entry whose client record is missing', async () => {
    const { store, keys, sessions } = setup();
    await store.put(`idx:root_clients:${ROOT_ID}:ghost`, new Uint8Array());
    expect(await revokeClientsOps(keys, sessions, ROOT_ID, 'key_revoked', NOW)).toEqual([]);
  });
});
