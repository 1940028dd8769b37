import { describe, expect, it } from 'vitest';
import { AuthError } from '../errors.js';
import { defaultSlots, HashPool } from './hash-pool.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run (one macrotask turn; no timers involved). */
const flush = () => new Promise<void>((r) => setImmediate(r));

/** A job that records when it starts and finishes when its deferred is resolved. */
function job(started: string[], name: string) {
  const d = deferred<string>();
  return {
    d,
    fn: () => {
      started.push(name);
      return d.promise;
    },
  };
}

describe('HashPool', () => {
  it('rejects with busy / retryAfter 1 once slots and queue are full', async () => {
    const pool = new HashPool({ slots: 2, queue: 3 });
    const started: string[] = [];
    const jobs = Array.from({ length: 5 }, (_, i) => job(started, `j${i}`));
    const results = jobs.map((j) => pool.run(j.fn));
    await flush();
    expect(started).toEqual(['j0', 'j1']);
    expect(pool.running).toBe(2);
    expect(pool.waiting).toBe(3);

    let ran = false;
    const err = await pool
      .run(async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(ran).toBe(false);
    expect(err).toBeInstanceOf(AuthError);
    expect(err).toMatchObject({
      code: 'busy',
      message: 'Too many concurrent login attempts; please try again later',
      retryAfter: 1,
    });

    for (const [i, j] of jobs.entries()) j.d.resolve(`r${i}`);
    await expect(Promise.all(results)).resolves.toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(pool.running).toBe(0);
    expect(pool.waiting).toBe(0);
  });

  it('queue 0 rejects as soon as every slot is busy', async () => {
    const pool = new HashPool({ slots: 1, queue: 0 });
    const a = deferred();
    const first = pool.run(() => a.promise);
    await expect(pool.run(async () => 1)).rejects.toMatchObject({ code: 'busy', retryAfter: 1 });
    a.resolve();
    await first;
    await expect(pool.run(async () => 2)).resolves.toBe(2);
  });

  it('completion frees a slot and the queued job runs', async () => {
    const pool = new HashPool({ slots: 1, queue: 1 });
    const started: string[] = [];
    const a = job(started, 'a');
    const b = job(started, 'b');
    const pa = pool.run(a.fn);
    const pb = pool.run(b.fn);
    await flush();
    expect(started).toEqual(['a']);
    // Full now: a third caller is turned away.
    await expect(pool.run(async () => 'c')).rejects.toMatchObject({ code: 'busy' });

    a.d.resolve('A');
    await expect(pa).resolves.toBe('A');
    await flush();
    expect(started).toEqual(['a', 'b']);
    expect(pool.running).toBe(1);
    expect(pool.waiting).toBe(0);
    // The queue slot b left is free again.
    const pc = pool.run(async () => 'C');
    b.d.resolve('B');
    await expect(pb).resolves.toBe('B');
    await expect(pc).resolves.toBe('C');
  });

  it('starts queued jobs in FIFO order, including runWaiting ones', async () => {
    const pool = new HashPool({ slots: 1, queue: 10 });
    const started: string[] = [];
    const jobs = ['a', 'b', 'c', 'd', 'e'].map((n) => job(started, n));
    const results = jobs.map((j, i) => (i === 2 ? pool.runWaiting(j.fn) : pool.run(j.fn)));
    await flush();
    expect(started).toEqual(['a']);
    for (let i = 0; i < jobs.length; i++) {
      (jobs[i] as (typeof jobs)[number]).d.resolve(String(i));
      await flush();
      expect(started).toEqual(['a', 'b', 'c', 'd', 'e'].slice(0, Math.min(i + 2, 5)));
    }
    await expect(Promise.all(results)).resolves.toEqual(['0', '1', '2', '3', '4']);
  });

  it('a job arriving as a slot frees up queues behind earlier waiters', async () => {
    const pool = new HashPool({ slots: 1, queue: 5 });
    const started: string[] = [];
    const a = job(started, 'a');
    const b = job(started, 'b');
    pool.run(a.fn);
    const pb = pool.run(b.fn);
    a.d.resolve('A');
    const late = job(started, 'late');
    const pl = pool.run(late.fn); // arrives before the hand-over has run
    await flush();
    expect(started).toEqual(['a', 'b']);
    b.d.resolve('B');
    await pb;
    await flush();
    expect(started).toEqual(['a', 'b', 'late']);
    late.d.resolve('L');
    await expect(pl).resolves.toBe('L');
  });

  it('a throwing job frees its slot and its error reaches the caller', async () => {
    const pool = new HashPool({ slots: 1, queue: 0 });
    await expect(pool.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(pool.running).toBe(0);
    // Synchronous throws too.
    await expect(
      pool.run(() => {
        throw new Error('sync boom');
      }),
    ).rejects.toThrow('sync boom');
    expect(pool.running).toBe(0);
    await expect(pool.run(async () => 'ok')).resolves.toBe('ok');
  });

  it('a queued job that throws hands the slot on', async () => {
    const pool = new HashPool({ slots: 1, queue: 2 });
    const a = deferred<string>();
    const pa = pool.run(() => a.promise);
    const pb = pool.run(() => Promise.reject(new Error('b failed')));
    const pc = pool.run(async () => 'C');
    a.resolve('A');
    await expect(pa).resolves.toBe('A');
    await expect(pb).rejects.toThrow('b failed');
    await expect(pc).resolves.toBe('C');
    expect(pool.running).toBe(0);
  });

  it('runWaiting is never rejected for capacity', async () => {
    const pool = new HashPool({ slots: 1, queue: 1 });
    const a = deferred<string>();
    const pa = pool.run(() => a.promise);
    const pb = pool.run(async () => 'B');
    await expect(pool.run(async () => 'x')).rejects.toMatchObject({ code: 'busy' });
    const waits = Array.from({ length: 10 }, (_, i) => pool.runWaiting(async () => i));
    expect(pool.waiting).toBe(11);
    // Waiting jobs occupy the queue, so run() stays rejected.
    await expect(pool.run(async () => 'y')).rejects.toMatchObject({ code: 'busy' });
    a.resolve('A');
    await expect(pa).resolves.toBe('A');
    await expect(pb).resolves.toBe('B');
    await expect(Promise.all(waits)).resolves.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('never runs more than `slots` jobs at once', async () => {
    const pool = new HashPool({ slots: 3, queue: 100 });
    let current = 0;
    let peak = 0;
    const gates = Array.from({ length: 20 }, () => deferred());
    const all = gates.map((g) =>
      pool.run(async () => {
        current++;
        peak = Math.max(peak, current);
        await g.promise;
        current--;
      }),
    );
    for (const g of gates) {
      await flush();
      g.resolve();
    }
    await Promise.all(all);
    expect(peak).toBe(3);
  });

  it('defaults to every core but one (at least one) and a queue of 64', async () => {
    expect([defaultSlots(1), defaultSlots(2), defaultSlots(8)]).toEqual([1, 1, 7]);
    const pool = new HashPool();
    const gate = deferred();
    const slots = defaultSlots((await import('node:os')).availableParallelism());
    const held = Array.from({ length: slots + 64 }, () => pool.run(() => gate.promise));
    expect(pool.running).toBe(slots);
    expect(pool.waiting).toBe(64);
    await expect(pool.run(async () => 1)).rejects.toMatchObject({ code: 'busy' });
    gate.resolve();
    await Promise.all(held);
  });

  it('rejects nonsense options', () => {
    expect(() => new HashPool({ slots: 0 })).toThrow('slots must be an integer >= 1, got 0');
    expect(() => new HashPool({ queue: -1 })).toThrow('queue must be an integer >= 0, got -1');
  });
});
