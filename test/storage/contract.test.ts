import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelStore } from '../../src/storage/level.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { CachingStore } from '../../src/storage/cache.js';
import { PostgresStore } from '../../src/storage/postgres.js';
import { createDatabase, describeWithPostgres, pgOptions, sharedPgUrl } from '../helpers/postgres.js';
import { runStoreContract } from './contract.js';

runStoreContract('memory', async () => ({
  store: new MemoryStore(),
  cleanup: async () => undefined,
}));

runStoreContract('level', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mero-auth-contract-'));
  const store = await LevelStore.open(join(dir, 'db'));
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

// The write-through cache must be indistinguishable from the store it wraps.
runStoreContract('cached memory', async () => ({
  store: new CachingStore(new MemoryStore(), ['']),
  cleanup: async () => undefined,
}));

runStoreContract('cached level', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mero-auth-contract-'));
  const store = new CachingStore(await LevelStore.open(join(dir, 'db')), ['']);
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describeWithPostgres('PostgreSQL store', () => {
  runStoreContract('postgres', async () => {
    const store = await PostgresStore.open(pgOptions(await createDatabase(sharedPgUrl(), 'contract')));
    return { store, cleanup: async () => undefined };
  });

  runStoreContract('cached postgres', async () => {
    const inner = await PostgresStore.open(pgOptions(await createDatabase(sharedPgUrl(), 'contract')));
    return { store: new CachingStore(inner, ['']), cleanup: async () => undefined };
  });
});
