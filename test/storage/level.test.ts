import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LevelStore, StorageLockedError, StorageOpenError, prefixUpperBound } from '../../src/storage/level.js';
import { Child } from './child.js';

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
const modeOf = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

let root: string;
const children: Child[] = [];
const stores: LevelStore[] = [];

function deferredVoid(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function open(path: string): Promise<LevelStore> {
  const store = await LevelStore.open(path);
  stores.push(store);
  return store;
}

function spawnChild(fixture: string, args: string[]): Child {
  const child = new Child(fixture, args);
  children.push(child);
  return child;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mero-auth-level-'));
});

afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill()));
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await rm(root, { recursive: true, force: true });
});

describe('LevelStore permissions', () => {
  it('creates the directory and its parents 0700, with 0600 files', async () => {
    const path = join(root, 'a', 'b', 'db');
    const store = await open(path);
    await store.put('k', bytes(1));
    expect(await modeOf(join(root, 'a'))).toBe(0o700);
    expect(await modeOf(join(root, 'a', 'b'))).toBe(0o700);
    expect(await modeOf(path)).toBe(0o700);
    const files = await readdir(path);
    expect(files).toContain('CURRENT');
    for (const f of files) expect([f, await modeOf(join(path, f))]).toEqual([f, 0o600]);
  });

  it('tightens an existing directory and existing files on open', async () => {
    const path = join(root, 'db');
    await (await open(path)).close();
    await chmod(path, 0o755);
    for (const f of await readdir(path)) await chmod(join(path, f), 0o644);
    await writeFile(join(path, 'stray.txt'), 'x', { mode: 0o666 });
    await chmod(join(path, 'stray.txt'), 0o666);

    await open(path);
    expect(await modeOf(path)).toBe(0o700);
    for (const f of await readdir(path)) expect([f, await modeOf(join(path, f))]).toEqual([f, 0o600]);
  });

  it('restores the process umask after open, also when opens overlap', async () => {
    const before = process.umask(0o022);
    try {
      await open(join(root, 'db'));
      expect(process.umask(0o022)).toBe(0o022);
      const results = await Promise.allSettled([
        open(join(root, 'x')),
        open(join(root, 'y')),
        LevelStore.open(join(root, 'x')), // one of the two on 'x' is refused: failures restore too
      ]);
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
      for (const r of results) if (r.status === 'fulfilled') stores.push(r.value);
      expect(process.umask(0o022)).toBe(0o022);
    } finally {
      process.umask(before);
    }
  });
});

describe('LevelStore ownership', () => {
  it('refuses a second open in the same process with the exact lock message', async () => {
    const path = join(root, 'db');
    const first = await open(path);
    await first.put('k', bytes(1));

    const second = LevelStore.open(path);
    await expect(second).rejects.toBeInstanceOf(StorageLockedError);
    await expect(second).rejects.toMatchObject({
      message: `storage at ${path} is locked by another process`,
      code: 'STORAGE_LOCKED',
      path,
    });

    // The first instance is unharmed, and the directory opens again once it is closed.
    expect(await first.get('k')).toEqual(bytes(1));
    await first.close();
    const third = await open(path);
    expect(await third.get('k')).toEqual(bytes(1));
  });

  it('refuses a directory locked by another process', async () => {
    const path = join(root, 'db');
    const holder = spawnChild('level-hold-lock.mjs', [path]);
    await holder.waitForLine((l) => l === 'LOCKED');

    const err = await LevelStore.open(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageLockedError);
    expect((err as Error).message).toBe(`storage at ${path} is locked by another process`);

    const { signal } = await holder.kill();
    expect(signal).toBe('SIGKILL');
    // LevelDB's lock dies with its process.
    await expect(open(path)).resolves.toBeInstanceOf(LevelStore);
  });

  it('names the path when the directory is not a LevelDB (e.g. a RocksDB directory)', async () => {
    const path = join(root, 'rocks');
    await mkdir(path);
    // The shape of a RocksDB directory: CURRENT points at a manifest LevelDB cannot parse.
    await writeFile(join(path, 'CURRENT'), 'MANIFEST-000005\n');
    await writeFile(join(path, 'MANIFEST-000005'), Buffer.from('not a leveldb manifest'));
    await writeFile(join(path, 'OPTIONS-000007'), '[Version]\n  rocksdb_version=8.1.1\n');

    const err = await LevelStore.open(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageOpenError);
    expect((err as StorageOpenError).code).toBe('STORAGE_OPEN_FAILED');
    expect((err as Error).message).toMatch(new RegExp(`^storage at ${escapeRegExp(path)} cannot be opened: \\S`));
    // Nothing of the foreign store was rewritten.
    expect(await readFile(join(path, 'CURRENT'), 'utf8')).toBe('MANIFEST-000005\n');
  });

  it('names the path when it is a regular file', async () => {
    const path = join(root, 'file');
    await writeFile(path, 'x');
    await expect(LevelStore.open(path)).rejects.toThrow(`storage at ${path} cannot be opened: `);
    await expect(LevelStore.open(path)).rejects.toBeInstanceOf(StorageOpenError);
  });
});

describe('LevelStore durability', () => {
  it('persists data across close and reopen', async () => {
    const path = join(root, 'db');
    const first = await open(path);
    await first.batch([
      { type: 'put', key: 'session:1', value: bytes(1) },
      { type: 'put', key: 'idx:key_sessions:k:1', value: bytes() },
    ]);
    expect(await first.putIfAbsent('system:refresh:consumed:j', bytes(2))).toBe(true);
    await first.close();

    const second = await open(path);
    expect(await second.scan('')).toEqual([
      ['idx:key_sessions:k:1', bytes()],
      ['session:1', bytes(1)],
      ['system:refresh:consumed:j', bytes(2)],
    ]);
    expect(await second.putIfAbsent('system:refresh:consumed:j', bytes(3))).toBe(false);
  });

  it('issues every write with { sync: true }', async () => {
    const proto = ClassicLevel.prototype as unknown as Record<'put' | 'del' | 'batch', () => unknown>;
    const put = vi.spyOn(proto, 'put');
    const del = vi.spyOn(proto, 'del');
    const batch = vi.spyOn(proto, 'batch');
    try {
      const store = await open(join(root, 'db'));
      await store.put('a', bytes(1));
      await store.del('a');
      await store.batch([{ type: 'put', key: 'b', value: bytes(2) }]);
      await store.putIfAbsent('c', bytes(3), [{ type: 'del', key: 'b' }]);
      // Every write is a (group-committable) batch.
      expect(put.mock.calls).toHaveLength(0);
      expect(del.mock.calls).toHaveLength(0);
      expect(batch.mock.calls).toHaveLength(4);
      for (const call of batch.mock.calls) expect(call.at(-1)).toEqual({ sync: true });
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('group commit: batches queued behind a synced write go to disk together, each acknowledged only after its write lands', async () => {
    const proto = ClassicLevel.prototype as unknown as { batch: (...args: unknown[]) => Promise<void> };
    const real = proto.batch;
    const events: string[] = [];
    const firstIn = deferredVoid();
    const releaseFirst = deferredVoid();
    let calls = 0;
    const batch = vi.spyOn(proto, 'batch').mockImplementation(async function (this: unknown, ...args: unknown[]) {
      const call = ++calls;
      const keys = (args[0] as Array<{ key: string }>).map((op) => op.key).join(',');
      if (call === 1) {
        firstIn.resolve();
        await releaseFirst.promise;
      }
      await real.apply(this, args);
      events.push(`landed ${keys}`);
    });
    try {
      const store = await open(join(root, 'db'));
      const first = store.put('a', bytes(1)).then(() => events.push('ack a'));
      await firstIn.promise;
      // Arriving while the first synced write is in flight: queued, then written as one.
      const rest = [
        store.batch([
          { type: 'put', key: 'b1', value: bytes(2) },
          { type: 'put', key: 'b2', value: bytes(2) },
        ]),
        store.put('c', bytes(3)),
        store.del('a'),
        store.putIfAbsent('d', bytes(4)),
      ].map((p, i) => p.then(() => events.push(`ack ${i}`)));
      // A malformed batch rejects alone, before it can spoil the group.
      await expect(store.batch([{ type: 'put', key: 'x', value: 'no' as unknown as Uint8Array }])).rejects.toThrow(TypeError);
      expect(events).toEqual([]);
      releaseFirst.resolve();
      await Promise.all([first, ...rest]);
      // putIfAbsent checks first, so its write may come in a third group; the other three share one.
      expect(batch.mock.calls.length).toBeLessThanOrEqual(3);
      expect(events[0]).toBe('landed a');
      expect(events[1]).toBe('ack a');
      expect(events[2]).toMatch(/^landed b1,b2,c,a/);
      for (const i of [0, 1, 2]) expect(events.indexOf(`ack ${i}`)).toBeGreaterThan(2);
      expect(events.indexOf('ack 3')).toBeGreaterThan(events.findIndex((e) => e.startsWith('landed') && e.endsWith('d')));
      // Order inside the group is arrival order: the del of 'a' came after its put.
      expect(await store.get('a')).toBeUndefined();
      expect(await store.get('b2')).toEqual(bytes(2));
      expect(await store.get('d')).toEqual(bytes(4));
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('a failed group write rejects every caller in it, and later writes still go through', async () => {
    const proto = ClassicLevel.prototype as unknown as { batch: (...args: unknown[]) => Promise<void> };
    const real = proto.batch;
    const firstIn = deferredVoid();
    const releaseFirst = deferredVoid();
    let calls = 0;
    vi.spyOn(proto, 'batch').mockImplementation(async function (this: unknown, ...args: unknown[]) {
      const call = ++calls;
      if (call === 1) {
        firstIn.resolve();
        await releaseFirst.promise;
      }
      if (call === 2) throw new Error('disk full');
      await real.apply(this, args);
    });
    try {
      const store = await open(join(root, 'db'));
      const first = store.put('a', bytes(1));
      await firstIn.promise;
      const grouped = [store.put('b', bytes(2)), store.put('c', bytes(3))].map((p) =>
        p.then(
          () => 'ok',
          (e: Error) => e.message,
        ),
      );
      releaseFirst.resolve();
      await first;
      expect(await Promise.all(grouped)).toEqual(['disk full', 'disk full']);
      expect(await store.get('b')).toBeUndefined();
      await store.put('e', bytes(5));
      expect(await store.get('e')).toEqual(bytes(5));
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('keeps every acknowledged sync write when the writer is killed with SIGKILL', async () => {
    const path = join(root, 'db');
    const writer = spawnChild('level-writer.mjs', [path, '100000']);
    await writer.waitForLine((l) => l === 'ACK 40');
    const { signal } = await writer.kill();
    expect(signal).toBe('SIGKILL');
    expect(writer.lines).not.toContain('DONE');

    const acked = writer.lines.filter((l) => l.startsWith('ACK ')).map((l) => Number(l.slice(4)));
    expect(acked.length).toBeGreaterThanOrEqual(41);
    expect(acked).toEqual(acked.map((_, i) => i)); // contiguous from 0

    const store = await open(path);
    const text = new TextDecoder();
    for (const i of acked) {
      const value = await store.get(`rec:${i}`);
      expect(value && text.decode(value)).toBe(`value-${i}`);
    }
  });
});

describe('prefixUpperBound', () => {
  it('increments the last byte, dropping trailing 0xFF bytes', () => {
    expect(prefixUpperBound(bytes(0x61, 0x62))).toEqual(bytes(0x61, 0x63));
    expect(prefixUpperBound(bytes(0x61, 0xff, 0xff))).toEqual(bytes(0x62));
    expect(prefixUpperBound(bytes(0x7f))).toEqual(bytes(0x80));
  });

  it('has no bound for the empty prefix or all-0xFF', () => {
    expect(prefixUpperBound(bytes())).toBeUndefined();
    expect(prefixUpperBound(bytes(0xff, 0xff))).toBeUndefined();
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
