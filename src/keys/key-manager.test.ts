import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../storage/memory.js';
import { putOp } from '../storage/store.js';
import type { KeyRecord } from './key.js';
import { KeyManager } from './key-manager.js';
import { clientKeyRecord, KEY_NOW, rootKeyRecord } from '../../test/helpers/keys.js';

const NOW = KEY_NOW;
const ROOT_ID = 'b'.repeat(64);
const CLIENT_ID = '3d1f0c8e-2a4b-4c6d-9e8f-0a1b2c3d4e5f';

const rootKey: KeyRecord = rootKeyRecord();

const clientKey = clientKeyRecord(ROOT_ID);

describe('KeyManager', () => {
  it('new root key ids are 64 lower-case hex characters, all different', () => {
    const ids = new Set(Array.from({ length: 20 }, () => KeyManager.newRootKeyId()));
    expect(ids.size).toBe(20);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('putOp writes root keys under root_key: and client keys under client_key:', async () => {
    const store = new MemoryStore();
    const keys = new KeyManager(store);
    await store.batch([keys.putOp(ROOT_ID, rootKey), keys.putOp(CLIENT_ID, clientKey)]);
    expect((await store.scan('')).map(([k]) => k)).toEqual([`client_key:${CLIENT_ID}`, `root_key:${ROOT_ID}`]);
    expect(await keys.getRoot(ROOT_ID)).toEqual(rootKey);
    expect(await keys.getClient(CLIENT_ID)).toEqual(clientKey);
    expect(await keys.getRoot(CLIENT_ID)).toBeUndefined();
    expect(await keys.getClient(ROOT_ID)).toBeUndefined();
    expect(await keys.get(ROOT_ID)).toEqual(rootKey);
    expect(await keys.get(CLIENT_ID)).toEqual(clientKey);
    expect(await keys.get('nope')).toBeUndefined();
  });

  it('get looks up root keys first', async () => {
    const store = new MemoryStore();
    const keys = new KeyManager(store);
    await store.batch([putOp(`root_key:same`, rootKey), putOp(`client_key:same`, clientKey)]);
    expect((await keys.get('same'))?.key_type).toBe('Root');
  });

  it('reads a stored record without expires_at as null', async () => {
    const store = new MemoryStore();
    const { expires_at: _drop, ...legacy } = rootKey;
    await store.batch([putOp(`root_key:${ROOT_ID}`, legacy)]);
    expect((await new KeyManager(store).getRoot(ROOT_ID))?.expires_at).toBeNull();
  });

  it('listRoot lists every root key with its id', async () => {
    const store = new MemoryStore();
    const keys = new KeyManager(store);
    await store.batch([
      keys.putOp('r1', rootKey),
      keys.putOp('r2', { ...rootKey, revoked_at: NOW }),
      keys.putOp(CLIENT_ID, clientKey),
    ]);
    expect(await keys.listRoot()).toEqual([
      ['r1', rootKey],
      ['r2', { ...rootKey, revoked_at: NOW }],
    ]);
  });

  it('clientIdsOf keeps only single-id remainders of idx:root_clients:<root>:', async () => {
    const store = new MemoryStore();
    const keys = new KeyManager(store);
    const empty = new Uint8Array();
    await store.batch([
      { type: 'put', key: `idx:root_clients:${ROOT_ID}:c1`, value: empty },
      { type: 'put', key: `idx:root_clients:${ROOT_ID}:c2`, value: empty },
      { type: 'put', key: `idx:root_clients:${ROOT_ID}x:c3`, value: empty },
      { type: 'put', key: 'idx:root_clients:mock_a:b:c4', value: empty },
      { type: 'put', key: 'idx:root_clients:mock_a:c5', value: empty },
      { type: 'put', key: 'idx:root_clients:mock_a:', value: empty },
    ]);
    expect(await keys.clientIdsOf(ROOT_ID)).toEqual(['c1', 'c2']);
    expect(await keys.clientIdsOf('mock_a')).toEqual(['c5']);
    expect(await keys.clientIdsOf('mock_a:b')).toEqual(['c4']);
    expect(await keys.clientIdsOf('none')).toEqual([]);
  });
});
