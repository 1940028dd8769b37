import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../storage/memory.js';
import { putOp, type Store } from '../storage/store.js';
import type { SessionRecord } from './session.js';
import { SessionManager } from './sessions.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const NOW = 1_700_000_000;
const KEY = 'a'.repeat(64);

async function open(sessions: SessionManager, store: Store, keyId: string, refreshExp: number, now = NOW): Promise<string> {
  const { sid, ops } = sessions.openOps(keyId, refreshExp, now);
  await store.batch(ops);
  return sid;
}

async function dump(store: Store): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of await store.scan('')) out[k] = Buffer.from(v).toString('utf8');
  return out;
}

function setup() {
  const store = new MemoryStore();
  return { store, sessions: new SessionManager(store) };
}

describe('SessionManager.openOps', () => {
  it('returns a fresh UUID v4 sid and two ops: the record and its index entry', () => {
    const { sessions } = setup();
    const { sid, ops } = sessions.openOps(KEY, NOW + 2_592_000, NOW);
    expect(sid).toMatch(UUID_V4);
    expect(ops).toHaveLength(2);
    const [rec, idx] = ops;
    expect(rec?.type).toBe('put');
    expect(rec?.key).toBe(`session:${sid}`);
    expect(idx).toEqual({ type: 'put', key: `idx:key_sessions:${KEY}:${sid}`, value: new Uint8Array() });
  });

  it('the record has the wire §6.4 shape and field order', () => {
    const { sessions } = setup();
    const { ops } = sessions.openOps(KEY, NOW + 100, NOW);
    const op = ops[0];
    if (op?.type !== 'put') throw new Error('expected a put');
    expect(Buffer.from(op.value).toString('utf8')).toBe(
      `{"key_id":"${KEY}","created_at":${NOW},"updated_at":${NOW},"expires_at":${NOW + 100},` +
        '"revoked_at":null,"revoked_reason":null,"generation":0}',
    );
  });

  it('writes nothing by itself; every call gives a new sid', async () => {
    const { store, sessions } = setup();
    const a = sessions.openOps(KEY, NOW + 1, NOW);
    const b = sessions.openOps(KEY, NOW + 1, NOW);
    expect(a.sid).not.toBe(b.sid);
    expect(await store.scan('')).toEqual([]);
  });

  it('get reads back what was written, and undefined for an unknown sid', async () => {
    const { store, sessions } = setup();
    const sid = await open(sessions, store, KEY, NOW + 100);
    expect(await sessions.get(sid)).toEqual({
      key_id: KEY,
      created_at: NOW,
      updated_at: NOW,
      expires_at: NOW + 100,
      revoked_at: null,
      revoked_reason: null,
      generation: 0,
    });
    expect(await sessions.get('00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });
});

describe('SessionManager.sidsOfKey (wire §6.1 index rule)', () => {
  it('lists the sessions of one key only', async () => {
    const { store, sessions } = setup();
    const a1 = await open(sessions, store, 'key-a', NOW + 1);
    const a2 = await open(sessions, store, 'key-a', NOW + 1);
    const b1 = await open(sessions, store, 'key-ab', NOW + 1);
    expect((await sessions.sidsOfKey('key-a')).sort()).toEqual([a1, a2].sort());
    expect(await sessions.sidsOfKey('key-ab')).toEqual([b1]);
    expect(await sessions.sidsOfKey('key')).toEqual([]);
  });

  it('a mock key id containing ":" never leaks into a shorter key listing', async () => {
    const { store, sessions } = setup();
    const own = await open(sessions, store, 'mock_a', NOW + 1);
    // `idx:key_sessions:mock_a:b:<sid>` belongs to key `mock_a:b`.
    const other = await open(sessions, store, 'mock_a:b', NOW + 1);
    const deeper = await open(sessions, store, 'mock_http://x_1700000000', NOW + 1);
    expect(await sessions.sidsOfKey('mock_a')).toEqual([own]);
    expect(await sessions.sidsOfKey('mock_a:b')).toEqual([other]);
    expect(await sessions.sidsOfKey('mock_http')).toEqual([]);
    expect(await sessions.sidsOfKey('mock_http://x_1700000000')).toEqual([deeper]);
  });

  it('ignores an empty remainder', async () => {
    const { store, sessions } = setup();
    await store.put('idx:key_sessions:k:', new Uint8Array());
    expect(await sessions.sidsOfKey('k')).toEqual([]);
  });
});

describe('SessionManager.revokeOp / revokeAllOps', () => {
  it('revokeOp stamps revoked_at, updated_at and the reason, keeping everything else', async () => {
    const { store, sessions } = setup();
    const sid = await open(sessions, store, KEY, NOW + 100);
    const rec = (await sessions.get(sid)) as SessionRecord;
    await store.batch([sessions.revokeOp(sid, rec, 'logout', NOW + 5)]);
    expect(await sessions.get(sid)).toEqual({
      ...rec,
      updated_at: NOW + 5,
      revoked_at: NOW + 5,
      revoked_reason: 'logout',
    });
  });

  it('revokes only the live sessions of the key, and leaves earlier revocations untouched', async () => {
    const { store, sessions } = setup();
    const live1 = await open(sessions, store, KEY, NOW + 100);
    const live2 = await open(sessions, store, KEY, NOW + 100);
    const dead = await open(sessions, store, KEY, NOW + 100);
    const otherKey = await open(sessions, store, 'mock_a', NOW + 100);
    const leaked = await open(sessions, store, `${KEY}:x`, NOW + 100);
    const deadRec = (await sessions.get(dead)) as SessionRecord;
    await store.batch([sessions.revokeOp(dead, deadRec, 'refresh_reuse', NOW + 1)]);

    const ops = await sessions.revokeAllOps(KEY, 'password_change', NOW + 10);
    expect(ops.map((o) => o.key).sort()).toEqual([`session:${live1}`, `session:${live2}`].sort());
    await store.batch(ops);

    for (const sid of [live1, live2]) {
      expect(await sessions.get(sid)).toMatchObject({
        revoked_at: NOW + 10,
        revoked_reason: 'password_change',
        updated_at: NOW + 10,
      });
    }
    expect(await sessions.get(dead)).toMatchObject({ revoked_at: NOW + 1, revoked_reason: 'refresh_reuse' });
    expect(await sessions.get(otherKey)).toMatchObject({ revoked_at: null, revoked_reason: null });
    expect(await sessions.get(leaked)).toMatchObject({ revoked_at: null, revoked_reason: null });
  });

  it('skips an index entry whose session record is gone', async () => {
    const { store, sessions } = setup();
    const sid = await open(sessions, store, KEY, NOW + 100);
    await store.del(`session:${sid}`);
    expect(await sessions.revokeAllOps(KEY, 'key_revoked', NOW)).toEqual([]);
  });

  it('no sessions → no ops', async () => {
    const { sessions } = setup();
    expect(await sessions.revokeAllOps(KEY, 'key_revoked', NOW)).toEqual([]);
  });
});

describe('SessionManager.sweep (expires_at + L < now)', () => {
  it('keeps a session up to now = expires_at + L and deletes it (and its index entry) from expires_at + L + 1', async () => {
    const { store, sessions } = setup();
    const EXP = NOW + 100;
    const sid = await open(sessions, store, KEY, EXP);
    const before = await dump(store);

    expect(await sessions.sweep(EXP + 60, 60)).toBe(0);
    expect(await dump(store)).toEqual(before);

    expect(await sessions.sweep(EXP + 61, 60)).toBe(1);
    expect(await store.has(`session:${sid}`)).toBe(false);
    expect(await store.has(`idx:key_sessions:${KEY}:${sid}`)).toBe(false);
    expect(await dump(store)).toEqual({});
  });

  it('L = 0: kept at now = expires_at, deleted at expires_at + 1', async () => {
    const { store, sessions } = setup();
    const sid = await open(sessions, store, KEY, NOW);
    expect(await sessions.sweep(NOW, 0)).toBe(0);
    expect(await sessions.sweep(NOW + 1, 0)).toBe(1);
    expect(await sessions.get(sid)).toBeUndefined();
  });

  it('deletes revoked and live sessions alike, and only the expired ones', async () => {
    const { store, sessions } = setup();
    const oldLive = await open(sessions, store, KEY, NOW);
    const oldRevoked = await open(sessions, store, 'mock_a:b', NOW);
    await store.batch([sessions.revokeOp(oldRevoked, (await sessions.get(oldRevoked)) as SessionRecord, 'logout', NOW)]);
    const fresh = await open(sessions, store, KEY, NOW + 1000);

    expect(await sessions.sweep(NOW + 61, 60)).toBe(2);
    expect(await sessions.get(oldLive)).toBeUndefined();
    expect(await sessions.get(oldRevoked)).toBeUndefined();
    expect(await store.has(`idx:key_sessions:mock_a:b:${oldRevoked}`)).toBe(false);
    expect(await sessions.get(fresh)).toBeDefined();
    expect(await sessions.sidsOfKey(KEY)).toEqual([fresh]);
  });

  it('an exchange that moved expires_at forward keeps the session', async () => {
    const { store, sessions } = setup();
    const sid = await open(sessions, store, KEY, NOW);
    const rec = (await sessions.get(sid)) as SessionRecord;
    await store.batch([putOp(`session:${sid}`, { ...rec, expires_at: NOW + 5000, generation: 1 })]);
    expect(await sessions.sweep(NOW + 61, 60)).toBe(0);
  });

  it('leaves an unreadable record alone', async () => {
    const { store, sessions } = setup();
    await store.put('session:broken', new TextEncoder().encode('{not json'));
    expect(await sessions.sweep(NOW + 1_000_000, 60)).toBe(0);
    expect(await store.has('session:broken')).toBe(true);
  });
});
