/** PostgreSQL in the tests: the run's shared cluster, per-suite databases, skip-or-fail. */
import { describe, inject, it } from 'vitest';
import type { PostgresStoreOptions } from '../../src/storage/postgres.js';
import { postgresMissing } from './pg-cluster.js';

export { createDatabase, postgresMissing, startCluster, type PgCluster } from './pg-cluster.js';

/** The shared cluster of this run (test/global-setup.ts); '' when PostgreSQL is not installed. */
export function sharedPgUrl(): string {
  return inject('pgBaseUrl');
}

/**
 * `describe` when PostgreSQL is there; otherwise a skipped suite with the reason, or, under CI,
 * a suite whose one test fails with it (CI must not pass without having run it).
 */
export function describeWithPostgres(name: string, body: () => void): void {
  const why = postgresMissing();
  if (why === undefined) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true' || process.env.CI === '1') {
    describe(name, () => {
      it('needs PostgreSQL', () => {
        throw new Error(`the PostgreSQL tests cannot run: ${why}`);
      });
    });
    return;
  }
  console.warn(`[PostgreSQL tests skipped] ${why}`);
  describe.skipIf(true)(name, body);
}

/** Store options for a test database: small pool, fast feed. */
export function pgOptions(url: string, overrides: Partial<PostgresStoreOptions> = {}): PostgresStoreOptions {
  return {
    url,
    poolSize: 8,
    statementTimeoutMs: 10_000,
    connectTimeoutMs: 5_000,
    pollIntervalMs: 50,
    coherenceBoundMs: 1_000,
    ...overrides,
  };
}

/** Below setInterval's 2^31-1 cap: only explicit poll() calls (and NOTIFY) read the feed. */
export const NEVER_MS = 2_000_000_000;

/** `p`, or a rejection naming what did not happen within `ms`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Re-checks `cond` (a bounded wait for an asynchronous event, not an assertion on timing). */
export async function until(cond: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
