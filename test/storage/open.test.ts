import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LevelStore } from '../../src/storage/level.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { openStore } from '../../src/storage/open.js';
import type { Store } from '../../src/storage/store.js';

const opened: Store[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mero-auth-open-'));
  dirs.push(dir);
  return join(dir, 'db');
}

describe('openStore', () => {
  it('opens a memory store without touching the path', async () => {
    const store = await openStore({ type: 'memory', path: '/nonexistent/never-created' });
    opened.push(store);
    expect(store).toBeInstanceOf(MemoryStore);
    expect(store.kind).toBe('memory');
  });

  it.each(['level', 'rocksdb'] as const)('opens a LevelDB store for type %s', async (type) => {
    const path = await tempPath();
    const store = await openStore({ type, path });
    opened.push(store);
    expect(store).toBeInstanceOf(LevelStore);
    expect(store.kind).toBe('level');
    await store.put('k', new Uint8Array([1]));
    expect(await store.get('k')).toEqual(new Uint8Array([1]));
  });

  it('passes the lock error through', async () => {
    const path = await tempPath();
    opened.push(await openStore({ type: 'level', path }));
    await expect(openStore({ type: 'level', path })).rejects.toThrow(`storage at ${path} is locked by another process`);
  });
});
