/**
 * Bounded concurrency for argon2 work (wire §8.2): a login flood must not starve the threadpool
 * that /auth/validate and storage also need. A fixed number of slots, a bounded FIFO queue, and
 * an immediate 503 beyond that.
 */
import { availableParallelism } from 'node:os';
import { AuthError } from '../errors.js';

export interface HashPoolOptions {
  /** Parallel slots; default defaultSlots(): every core but one. */
  slots?: number;
  /** Waiters allowed beyond the slots before run() rejects; default 64. */
  queue?: number;
}

/**
 * Every core but one (at least one): a login flood then always leaves a core to /auth/validate
 * and the event loop (issue 11 measured validate p99 ×3.6 under 8 login connections with every
 * core hashing).
 */
export function defaultSlots(cores = availableParallelism()): number {
  return Math.max(1, cores - 1);
}

export const BUSY_MESSAGE = 'Too many concurrent login attempts; please try again later';

export class HashPool {
  private readonly slots: number;
  private readonly queueLimit: number;
  private active = 0;
  /** Starters of queued jobs, oldest first; each is handed a slot that is already counted. */
  private readonly waiters: Array<() => void> = [];

  constructor(opts: HashPoolOptions = {}) {
    const { slots = defaultSlots(), queue = 64 } = opts;
    if (!Number.isSafeInteger(slots) || slots < 1) {
      throw new RangeError(`slots must be an integer >= 1, got ${slots}`);
    }
    if (!Number.isSafeInteger(queue) || queue < 0) {
      throw new RangeError(`queue must be an integer >= 0, got ${queue}`);
    }
    this.slots = slots;
    this.queueLimit = queue;
  }

  /** Jobs holding a slot now. */
  get running(): number {
    return this.active;
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Login and admin work: rejected with 'busy' (Retry-After 1) when slots and queue are full. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.slots && this.waiters.length >= this.queueLimit) {
      return Promise.reject(new AuthError('busy', BUSY_MESSAGE, { retryAfter: 1 }));
    }
    return this.enqueue(fn);
  }

  /** Startup provisioning and set-admin: waits for a slot however long the queue is. */
  runWaiting<T>(fn: () => Promise<T>): Promise<T> {
    return this.enqueue(fn);
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < this.slots) {
      this.active++;
      return this.execute(fn);
    }
    return new Promise<T>((resolve, reject) => {
      this.waiters.push(() => {
        this.execute(fn).then(resolve, reject);
      });
    });
  }

  private async execute<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /** Hands the slot straight to the oldest waiter, so a newcomer can never jump the queue. */
  private release(): void {
    const next = this.waiters.shift();
    if (next === undefined) this.active--;
    else next();
  }
}
