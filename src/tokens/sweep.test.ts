import { describe, expect, it } from 'vitest';
import type { Core } from '../core.js';
import { MemoryStore } from '../storage/memory.js';
import { encodeJson, putOp, type BatchOp, type SectionLock } from '../storage/store.js';
import { consumedKey, sweepConsumed } from './refresh.js';
import type { SessionRecord } from './session.js';
import { SessionManager, SWEEP_BATCH_OPS } from './sessions.js';

const NOW = 1_700_000_000;
const L = 60;

/** A memory store that records the size of every batch written to it. */
class BatchLog extends MemoryStore {
  readonly sizes: number[] = [];
  /** Set by a test's lock: batches must only be written while it is held. */
  outside = 0;
  locked = false;
  override async batch(ops: BatchOp[]): Promise<void> {
    this.sizes.push(ops.length);
    if (!this.locked) this.outside++;
    return super.batch(ops);
  }
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

async function seed(store: BatchLog, sessions: SessionManager, n: number, keyId: string, refreshExp: number): Promise<string[]> {
  const sids: string[] = [];
  const ops: BatchOp[] = [];
  for (let i = 0; i < n; i++) {
    const opened = sessions.openOps(keyId, refreshExp, NOW - 100_000);
    sids.push(opened.sid);
    ops.push(...opened.ops);
  }
  await store.batch(ops);
  store.sizes.length = 0;
  store.outside = 0;
  return sids;
}

describe('the sweeps delete in bounded batches', () => {
  it('SessionManager.sweep: batches of at most SWEEP_BATCH_OPS ops, exactly the expired sessions and their index entries', async () => {
    const store = new BatchLog();
    const sessions = new SessionManager(store);
    const expired = await seed(store, sessions, 1_234, 'key-a', NOW - L - 1);
    const edge = await seed(store, sessions, 3, 'mock_a:b', NOW - L); // expires_at + L = now: kept
    const live = await seed(store, sessions, 300, 'key-a', NOW + 10);
    await store.put('session:broken', new TextEncoder().encode('{not json'));
    store.sizes.length = 0;

    expect(await sessions.sweep(NOW, L)).toBe(1_234);

    expect(Math.max(...store.sizes)).toBeLessThanOrEqual(SWEEP_BATCH_OPS);
    expect(store.sizes.length).toBe(Math.ceil((2 * 1_234) / SWEEP_BATCH_OPS));
    expect(store.sizes.reduce((a, b) => a + b, 0)).toBe(2 * 1_234);
    const left = (await store.scan('')).map(([k]) => k);
    const kept = [...edge, ...live];
    expect(left.sort(byteOrder)).toEqual(
      [
        'session:broken',
        ...kept.map((sid) => `session:${sid}`),
        ...edge.map((sid) => `idx:key_sessions:mock_a:b:${sid}`),
        ...live.map((sid) => `idx:key_sessions:key-a:${sid}`),
      ].sort(byteOrder),
    );
    for (const sid of expired) expect(await sessions.get(sid)).toBeUndefined();
    expect(await sessions.sweep(NOW, L)).toBe(0);
    expect(store.sizes.length).toBe(Math.ceil((2 * 1_234) / SWEEP_BATCH_OPS));
  });

  it('SessionManager.sweep with a lock: every batch is written inside it, and re-reads its sessions there', async () => {
    const store = new BatchLog();
    const sessions = new SessionManager(store);
    const expired = (await seed(store, sessions, 700, 'key-a', NOW - L - 1)).sort(byteOrder);
    const refreshed = expired[0] as string; // in the first batch
    let runs = 0;
    const lock: SectionLock = {
      run: async (fn) => {
        runs++;
        if (runs === 1) {
          // A refresh that won the lock first moved this session's expires_at forward.
          const rec = (await sessions.get(refreshed)) as SessionRecord;
          await store.put(`session:${refreshed}`, encodeJson({ ...rec, expires_at: NOW + 1_000, generation: 1 }));
        }
        store.locked = true;
        try {
          return await fn();
        } finally {
          store.locked = false;
        }
      },
    };
    expect(await sessions.sweep(NOW, L, lock)).toBe(699);
    expect(runs).toBe(Math.ceil((2 * 700) / SWEEP_BATCH_OPS));
    expect(store.outside).toBe(0);
    expect(Math.max(...store.sizes)).toBeLessThanOrEqual(SWEEP_BATCH_OPS);
    expect(await sessions.get(refreshed)).toMatchObject({ expires_at: NOW + 1_000 });
    expect(await sessions.sidsOfKey('key-a')).toEqual([refreshed]);
  });

  it('sweepConsumed: batches of at most SWEEP_BATCH_OPS deletes, only markers with exp + L < now', async () => {
    const store = new BatchLog();
    const clock = { nowMs: () => NOW * 1000 };
    const core = { store, clock, sessions: new SessionManager(store), config: { jwt: { leeway_seconds: L } } } as unknown as Core;
    const ops: BatchOp[] = [];
    const marker = (exp: number) => ({ exp, sid: 's', consumed_at: exp - 10, successor: {} });
    for (let i = 0; i < 1_100; i++) ops.push(putOp(consumedKey(`old-${i}`), marker(NOW - L - 1 - i)));
    for (let i = 0; i < 40; i++) ops.push(putOp(consumedKey(`live-${i}`), marker(NOW - L + i)));
    ops.push({ type: 'put', key: consumedKey('broken'), value: new TextEncoder().encode('{') });
    ops.push(putOp(consumedKey('bare-number'), NOW - L - 1));
    ops.push(putOp(consumedKey('no-exp'), { sid: 's' }));
    await store.batch(ops);
    store.sizes.length = 0;

    expect(await sweepConsumed(core)).toBe(1_101);

    expect(Math.max(...store.sizes)).toBeLessThanOrEqual(SWEEP_BATCH_OPS);
    expect(store.sizes.length).toBe(Math.ceil(1_101 / SWEEP_BATCH_OPS));
    const left = (await store.scan('system:refresh:consumed:')).map(([k]) => k.slice('system:refresh:consumed:'.length));
    expect(left.sort()).toEqual(['broken', 'no-exp', ...Array.from({ length: 40 }, (_, i) => `live-${i}`)].sort());
  });
});
