import { describe, expect, it } from 'vitest';
import { CachingStore } from '../../src/storage/cache.js';
import { MemoryStore } from '../../src/storage/memory.js';
import type { BatchOp, Store } from '../../src/storage/store.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

/** A store whose reads wait until released, to interleave a write with an in-flight read. */
class SlowReads extends MemoryStore {
  release: (() => void) | undefined;
  override async get(key: string): Promise<Uint8Array | undefined> {
    const value = await super.get(key);
    await new Promise<void>((r) => (this.release = r));
    return value;
  }
}

describe('CachingStore', () => {
  it('serves cached records without reading the inner store again', async () => {
    const inner = new MemoryStore();
    let reads = 0;
    const counting: Store = Object.assign(Object.create(inner) as Store, {
      get: (k: string) => {
        reads++;
        return inner.get(k);
      },
    });
    const store = new CachingStore(counting, ['session:']);
    await store.put('session:a', bytes('1'));
    expect(text(await store.get('session:a'))).toBe('1');
    expect(text(await store.get('session:a'))).toBe('1');
    expect(reads).toBe(0);
    await store.get('other:x');
    await store.get('other:x');
    expect(reads).toBe(2); // not a cached prefix
  });

  it('a revocation written through the cache is visible to the very next read', async () => {
    const store = new CachingStore(new MemoryStore(), ['session:']);
    await store.put('session:a', bytes('live'));
    expect(text(await store.get('session:a'))).toBe('live');
    const ops: BatchOp[] = [{ type: 'put', key: 'session:a', value: bytes('revoked') }];
    await store.batch(ops);
    expect(text(await store.get('session:a'))).toBe('revoked');
    await store.putIfAbsent('marker', bytes('m'), [{ type: 'put', key: 'session:a', value: bytes('gen2') }]);
    expect(text(await store.get('session:a'))).toBe('gen2');
    await store.del('session:a');
    expect(await store.get('session:a')).toBeUndefined();
  });

  it('a read that raced a write never caches the stale value', async () => {
    const inner = new SlowReads();
    await inner.put('session:a', bytes('old'));
    const store = new CachingStore(inner, ['session:']);
    const pending = store.get('session:a');
    await new Promise((r) => setImmediate(r));
    await store.batch([{ type: 'put', key: 'session:a', value: bytes('new') }]);
    inner.release?.();
    expect(text(await pending)).toBe('old'); // the read began before the write
    expect(text(await store.get('session:a'))).toBe('new');
  });

  it('stays bounded', async () => {
    const store = new CachingStore(new MemoryStore(), [''], 3);
    for (const k of ['a', 'b', 'c', 'd', 'e']) await store.put(k, bytes(k));
    for (const k of ['a', 'b', 'c', 'd', 'e']) expect(text(await store.get(k))).toBe(k);
  });
});

describe('CachingStore.getJson', () => {
  it('shares one frozen decoded value and drops it on every write', async () => {
    const store = new CachingStore(new MemoryStore(), ['k:']);
    await store.put('k:a', bytes('{"n":1,"list":["x"]}'));
    const first = await store.getJson<{ n: number; list: string[] }>('k:a');
    const second = await store.getJson<{ n: number; list: string[] }>('k:a');
    expect(first).toEqual({ n: 1, list: ['x'] });
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first?.list)).toBe(true);
    await store.batch([{ type: 'put', key: 'k:a', value: bytes('{"n":2,"list":[]}') }]);
    expect(await store.getJson('k:a')).toEqual({ n: 2, list: [] });
    await store.del('k:a');
    expect(await store.getJson('k:a')).toBeUndefined();
  });

  it('never shares a value decoded from bytes that a racing write replaced', async () => {
    const inner = new SlowReads();
    await inner.put('k:a', bytes('{"v":"old"}'));
    const store = new CachingStore(inner, ['k:']);
    const pending = store.getJson<{ v: string }>('k:a');
    await new Promise((r) => setImmediate(r));
    await store.put('k:a', bytes('{"v":"new"}'));
    inner.release?.();
    expect((await pending)?.v).toBe('old');
    expect((await store.getJson<{ v: string }>('k:a'))?.v).toBe('new');
  });
});
