/**
 * Scheduling priority of libuv's threadpool (issue 11): argon2 hashes and the store's reads and
 * writes run on it, forward-auth answers run on the event loop. When the cores are saturated —
 * a login flood — the kernel splits them evenly between every runnable thread, so a hash
 * running for 100 ms takes its share from validate's event loop. A higher nice value on the pool
 * threads (and the threads they start, which inherit it: argon2's lanes, LevelDB's compaction)
 * gives the event loop the precedence; when the cores are idle it changes nothing.
 *
 * Linux only: the pool threads are found by asking them. `readlink('/proc/thread-self')` runs on
 * whichever pool thread picks it up and names that thread, so a few batches of them name every
 * thread of the pool. Raising nice needs no privilege; it cannot be undone without one, which is
 * why the CLI does this and the embedding API (createAuth) leaves the host's threads alone.
 */
import { readlink } from 'node:fs/promises';
import { setPriority } from 'node:os';

/** libuv's own default when UV_THREADPOOL_SIZE is unset. */
const UV_DEFAULT_POOL_SIZE = 4;
const MAX_ROUNDS = 50;

export type PoolPriorityOutcome =
  | { status: 'lowered'; nice: number; threads: number; poolSize: number }
  | { status: 'skipped'; reason: string };

export interface PoolPriorityDeps {
  platform: NodeJS.Platform;
  poolSize: number;
  /** The thread id of the pool thread that ran this call. */
  poolThreadId: () => Promise<number>;
  setNice: (tid: number, nice: number) => void;
}

const linuxDeps = (): PoolPriorityDeps => ({
  platform: process.platform,
  poolSize: Number(process.env.UV_THREADPOOL_SIZE) || UV_DEFAULT_POOL_SIZE,
  poolThreadId: async () => Number((await readlink('/proc/thread-self')).split('/').pop()),
  setNice: (tid, nice) => setPriority(tid, nice),
});

/** Sets `nice` (1–19) on every thread of the pool; 0 leaves the priority alone. */
export async function lowerThreadpoolPriority(nice: number, deps: PoolPriorityDeps = linuxDeps()): Promise<PoolPriorityOutcome> {
  if (nice === 0) return { status: 'skipped', reason: 'server.threadpool_nice is 0' };
  if (deps.platform !== 'linux') return { status: 'skipped', reason: `not supported on ${deps.platform}` };
  const seen = new Set<number>();
  try {
    for (let round = 0; round < MAX_ROUNDS && seen.size < deps.poolSize; round++) {
      // More calls than threads, so that every idle thread is woken to take some.
      const ids = await Promise.all(Array.from({ length: deps.poolSize * 8 }, () => deps.poolThreadId()));
      for (const id of ids) if (Number.isSafeInteger(id) && id > 0 && id !== process.pid) seen.add(id);
    }
    for (const tid of seen) deps.setNice(tid, nice);
  } catch (e) {
    return { status: 'skipped', reason: (e as Error).message };
  }
  return { status: 'lowered', nice, threads: seen.size, poolSize: deps.poolSize };
}
