import type { AuthConfig } from '../config/schema.js';
import { LevelStore } from './level.js';
import { MemoryStore } from './memory.js';
import { PostgresStore } from './postgres.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** `rocksdb` is accepted as an alias of `level` so existing Rust configs start. */
  type: 'level' | 'rocksdb' | 'memory' | 'postgres';
  /** Data directory for `level`; ignored by the others. */
  path: string;
  /** `postgres` only: the connection and its limits (`storage.*`). */
  postgres?: Omit<AuthConfig['storage'], 'type' | 'path'>;
  log?: { info(msg: string): void; warn(msg: string): void };
}

/**
 * Rejects with StorageLockedError or StorageOpenError (see level.ts) when `level` cannot open,
 * StorageOpenError when `postgres` cannot connect or migrate.
 */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  switch (opts.type) {
    case 'memory':
      return new MemoryStore();
    case 'level':
    case 'rocksdb':
      return LevelStore.open(opts.path);
    case 'postgres': {
      const pgOpts = opts.postgres;
      if (pgOpts?.url === undefined) throw new TypeError('storage.url is required for postgres');
      return PostgresStore.open({
        url: pgOpts.url,
        poolSize: pgOpts.pool_size,
        statementTimeoutMs: pgOpts.statement_timeout_ms,
        connectTimeoutMs: pgOpts.connect_timeout_ms,
        pollIntervalMs: pgOpts.poll_interval_ms,
        coherenceBoundMs: pgOpts.coherence_bound_ms,
        ...(opts.log ? { log: opts.log } : {}),
      });
    }
  }
}
