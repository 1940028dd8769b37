import { LevelStore } from './level.js';
import { MemoryStore } from './memory.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** `rocksdb` is accepted as an alias of `level` so existing Rust configs start. */
  type: 'level' | 'rocksdb' | 'memory';
  /** Data directory for `level`; ignored by `memory`. */
  path: string;
}

/** Rejects with StorageLockedError or StorageOpenError (see level.ts) when `level` cannot open. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  switch (opts.type) {
    case 'memory':
      return new MemoryStore();
    case 'level':
    case 'rocksdb':
      return LevelStore.open(opts.path);
  }
}
