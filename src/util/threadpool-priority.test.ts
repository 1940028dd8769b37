import { describe, expect, it } from 'vitest';
import { lowerThreadpoolPriority, type PoolPriorityDeps } from './threadpool-priority.js';

/** A fake pool: each call is answered by the next thread id in turn; nice values recorded. */
function fakePool(ids: number[], overrides: Partial<PoolPriorityDeps> = {}) {
  const niced = new Map<number, number>();
  let calls = 0;
  const deps: PoolPriorityDeps = {
    platform: 'linux',
    poolSize: ids.length,
    poolThreadId: async () => ids[calls++ % ids.length] as number,
    setNice: (tid, nice) => niced.set(tid, nice),
    ...overrides,
  };
  return { deps, niced, calls: () => calls };
}

describe('lowerThreadpoolPriority', () => {
  it('sets the nice value on every thread the pool names, once each', async () => {
    const pool = fakePool([101, 102, 103, 104]);
    expect(await lowerThreadpoolPriority(10, pool.deps)).toEqual({ status: 'lowered', nice: 10, threads: 4, poolSize: 4 });
    expect([...pool.niced.entries()].sort()).toEqual([
      [101, 10],
      [102, 10],
      [103, 10],
      [104, 10],
    ]);
  });

  it('0 leaves the priority alone without asking the pool', async () => {
    const pool = fakePool([101]);
    expect(await lowerThreadpoolPriority(0, pool.deps)).toEqual({ status: 'skipped', reason: 'server.threadpool_nice is 0' });
    expect(pool.calls()).toBe(0);
    expect(pool.niced.size).toBe(0);
  });

  it('outside Linux it is skipped with the reason', async () => {
    const pool = fakePool([101], { platform: 'darwin' });
    expect(await lowerThreadpoolPriority(10, pool.deps)).toEqual({ status: 'skipped', reason: 'not supported on darwin' });
    expect(pool.niced.size).toBe(0);
  });

  it('a pool that keeps naming the same threads: the ones seen are lowered and the shortfall reported, in bounded rounds', async () => {
    const pool = fakePool([201, 202], { poolSize: 4 });
    expect(await lowerThreadpoolPriority(5, pool.deps)).toEqual({ status: 'lowered', nice: 5, threads: 2, poolSize: 4 });
    expect(pool.calls()).toBe(50 * 4 * 8);
  });

  it('the main thread and nonsense ids are never reniced', async () => {
    const pool = fakePool([process.pid, Number.NaN, 0, 301], { poolSize: 1 });
    await lowerThreadpoolPriority(10, pool.deps);
    expect([...pool.niced.keys()]).toEqual([301]);
  });

  it('a failing readlink or setpriority: skipped with the error message', async () => {
    const noProc = fakePool([1], {
      poolThreadId: async () => {
        throw new Error("ENOENT: no such file or directory, readlink '/proc/thread-self'");
      },
    });
    expect(await lowerThreadpoolPriority(10, noProc.deps)).toEqual({
      status: 'skipped',
      reason: "ENOENT: no such file or directory, readlink '/proc/thread-self'",
    });
    const denied = fakePool([401], {
      setNice: () => {
        throw new Error('EACCES: permission denied');
      },
    });
    expect(await lowerThreadpoolPriority(10, denied.deps)).toEqual({ status: 'skipped', reason: 'EACCES: permission denied' });
  });
});
