import type { Core } from '../core.js';
import type { SharedLoginAttempts } from '../storage/postgres.js';
import type { AttemptGate } from './attempt-gate.js';
import type { RateLimiter } from './rate-limiter.js';

/** One failure budget an attempt runs under. */
export interface AttemptBucket {
  limiter: RateLimiter;
  /** The bucket's key in `limiter`. */
  key: string;
  /** Its name in the AttemptGate and, with a shared store, in the database. */
  name: string;
  /** The database bucket's budget (the local limiter knows its own). */
  maxFailures: number;
}

export type Verdict = 'failed' | 'succeeded';

/** Where a refusal came from: this process's limiters, or the cluster's buckets in the database. */
export type RefusedBy = 'local' | 'shared';

export interface GatedAttemptOptions {
  /** The bucket a success clears in the database. */
  resetBucket: string;
  /** Throws the caller's 429; `retryAfter` in seconds. */
  refuse: (retryAfter: number, by: RefusedBy) => never;
}

/**
 * Runs `attempt` under the failure budgets of `buckets` (wire §8.1), the one way password
 * logins and second-factor codes are limited:
 * - refused while any bucket is locked here;
 * - waits while a bucket has as many attempts in flight as it has failures left (AttemptGate),
 *   so parallel guesses cannot outrun the budget, then decides on the buckets as they are;
 * - with a shared store, the cluster's buckets decide next (one pending row per attempt), and the
 *   row is settled with the verdict `attempt` reports: failed, succeeded (clears `resetBucket`),
 *   or none (abandoned: a 503 or a bad request is not a guess).
 * Recording failures in the local limiters is the caller's: it knows which ones count.
 */
export async function gatedAttempt<T>(
  core: Core,
  limits: { attempts: AttemptGate; shared?: SharedLoginAttempts | undefined },
  buckets: readonly AttemptBucket[],
  options: GatedAttemptOptions,
  attempt: (report: (verdict: Verdict) => void) => Promise<T>,
): Promise<T> {
  const { attempts, shared } = limits;
  for (;;) {
    const now = core.clock.nowMs();
    const decisions = buckets.map((b) => b.limiter.check(b.key, now));
    if (decisions.some((d) => d.locked)) {
      options.refuse(Math.max(...decisions.map((d) => (d.locked ? d.retryAfter : 1))), 'local');
    }
    const full = buckets.find((b) => attempts.inFlight(b.name) >= b.limiter.remaining(b.key, now));
    if (full === undefined) break;
    await attempts.whenOneLeaves(full.name);
  }

  for (const b of buckets) attempts.enter(b.name);
  let verdict: Verdict | undefined;
  let sharedId: string | undefined;
  try {
    if (shared !== undefined) {
      const admission = await shared.begin(
        buckets.map((b) => ({ bucket: b.name, maxFailures: b.maxFailures })),
        core.clock.nowMs(),
        core.config.rate_limit.window_seconds * 1000,
      );
      if (!admission.admitted) options.refuse(admission.retryAfterSeconds, 'shared');
      sharedId = admission.id;
    }
    return await attempt((v) => {
      verdict = v;
    });
  } finally {
    for (const b of buckets) attempts.leave(b.name);
    if (shared !== undefined && sharedId !== undefined) await settleShared(core, shared, sharedId, verdict, options.resetBucket);
  }
}

async function settleShared(
  core: Core,
  shared: SharedLoginAttempts,
  id: string,
  verdict: Verdict | undefined,
  resetBucket: string,
): Promise<void> {
  try {
    if (verdict === 'failed') await shared.fail(id, core.clock.nowMs());
    else if (verdict === 'succeeded') await shared.succeed(id, resetBucket);
    else await shared.abandon(id);
  } catch (e) {
    // The pending row still counts until it expires: the budget errs on the safe side.
    core.log.warn({ err: (e as Error).message }, 'recording a login attempt in the database failed');
  }
}
