import { describe, expect, it } from 'vitest';
import { cacheBudgetBytes, CachingStore } from '../../src/storage/cache.js';
import { MemoryStore } from '../../src/storage/memory.js';
import type { BatchOp, ChangeFeed, Store } from '../../src/storage/store.js';

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

/** An inner memory store that counts its reads, optionally with a change feed of the test's. */
function countingInner(feed?: ChangeFeed) {
  const memory = new MemoryStore();
  const counter = { reads: 0 };
  const inner: Store = Object.assign(Object.create(memory) as Store, {
    get: (k: string) => {
      counter.reads++;
      return memory.get(k);
    },
    ...(feed === undefined ? {} : { feed }),
  });
  return { inner, counter };
}

/** What sizeOf in src/storage/cache.ts counts for one entry. */
const entrySize = (key: string, valueBytes: number) => 2 * key.length + 3 * valueBytes + 256;

describe('CachingStore byte budget (LRU)', () => {
  it('evicts the least recently used entries once the budget is full', async () => {
    const { inner, counter } = countingInner();
    const value = bytes('v'.repeat(100));
    const store = new CachingStore(inner, ['k:'], 3 * entrySize('k:a', 100));
    for (const k of ['k:a', 'k:b', 'k:c']) await store.put(k, value);
    expect(store.cachedEntries).toBe(3);
    expect(store.cachedBytes).toBe(3 * entrySize('k:a', 100));
    await store.get('k:a'); // now the most recently used
    await store.put('k:d', value); // evicts k:b, the least recently used
    expect(store.cachedEntries).toBe(3);
    counter.reads = 0;
    for (const k of ['k:a', 'k:c', 'k:d']) expect(text(await store.get(k))).toBe('v'.repeat(100));
    expect(counter.reads).toBe(0);
    expect(text(await store.get('k:b'))).toBe('v'.repeat(100));
    expect(counter.reads).toBe(1);
    expect(store.cachedBytes).toBeLessThanOrEqual(3 * entrySize('k:a', 100));
  });

  it('counts an entry by its bytes: one large record displaces several small ones', async () => {
    const store = new CachingStore(new MemoryStore(), ['k:'], 4 * entrySize('k:a', 10));
    for (const k of ['k:a', 'k:b', 'k:c', 'k:d']) await store.put(k, bytes('x'.repeat(10)));
    expect(store.cachedEntries).toBe(4);
    await store.put('k:big', bytes('y'.repeat(60)));
    expect(store.cachedEntries).toBeLessThan(4);
    expect(store.cachedBytes).toBeLessThanOrEqual(4 * entrySize('k:a', 10));
    for (const k of ['k:a', 'k:b', 'k:c', 'k:d']) expect(text(await store.get(k))).toBe('x'.repeat(10));
    expect(text(await store.get('k:big'))).toBe('y'.repeat(60));
  });

  it('never caches a record larger than the whole budget, and drops the older copy it replaces', async () => {
    const { inner, counter } = countingInner();
    const store = new CachingStore(inner, ['k:'], 1000);
    await store.put('k:x', bytes('{"v":"small"}'));
    expect(store.cachedEntries).toBe(1);
    const big = `{"v":"${'b'.repeat(400)}"}`;
    await store.put('k:x', bytes(big));
    expect(store.cachedEntries).toBe(0);
    counter.reads = 0;
    expect(text(await store.get('k:x'))).toBe(big);
    expect((await store.getJson<{ v: string }>('k:x'))?.v).toBe('b'.repeat(400));
    expect(store.peekJson('k:x')).toBeUndefined();
    expect(counter.reads).toBe(2); // every read goes to the store
    expect(store.cachedEntries).toBe(0);
  });

  it('keeps every byte value exact and hands out plain, unshared copies', async () => {
    const store = new CachingStore(new MemoryStore(), ['']);
    const all = new Uint8Array(256).map((_, i) => i);
    await store.put('bin', all);
    const a = await store.get('bin');
    expect(a).toEqual(all);
    expect(a?.constructor).toBe(Uint8Array);
    a?.fill(0);
    expect(await store.get('bin')).toEqual(all);
  });

  it('the default budget is 1 % of the heap limit, between 4 and 8 MB', () => {
    const MB = 1024 * 1024;
    expect(cacheBudgetBytes(4096 * MB)).toBe(8 * MB);
    expect(cacheBudgetBytes(600 * MB)).toBe(Math.floor(6 * MB));
    expect(cacheBudgetBytes(256 * MB)).toBe(4 * MB);
  });
});

describe('CachingStore coherence with a change feed (unchanged by the byte budget)', () => {
  function withFeed() {
    let listener: (keys: readonly string[] | 'all') => void = () => undefined;
    let coherent = true;
    const feed: ChangeFeed = { subscribe: (l) => void (listener = l), coherent: () => coherent };
    const { inner, counter } = countingInner(feed);
    const store = new CachingStore(inner, ['k:']);
    return {
      store,
      counter,
      emit: (keys: readonly string[] | 'all') => listener(keys),
      setCoherent: (c: boolean) => (coherent = c),
    };
  }

  it('a key the feed reports is read afresh; "all" drops everything', async () => {
    const { store, counter, emit } = withFeed();
    await store.put('k:a', bytes('{"n":1}'));
    await store.put('k:b', bytes('{"n":2}'));
    await store.getJson('k:a');
    counter.reads = 0;
    emit(['k:a']);
    expect(store.peekJson('k:a')).toBeUndefined();
    await store.get('k:a');
    await store.get('k:b');
    expect(counter.reads).toBe(1);
    emit('all');
    expect(store.cachedEntries).toBe(0);
  });

  it('answers nothing from memory while the feed is not coherent', async () => {
    const { store, counter, setCoherent } = withFeed();
    await store.put('k:a', bytes('{"n":1}'));
    await store.getJson('k:a');
    setCoherent(false);
    counter.reads = 0;
    expect(store.peekJson('k:a')).toBeUndefined();
    expect(await store.getJson('k:a')).toEqual({ n: 1 });
    await store.get('k:a');
    expect(counter.reads).toBe(2);
    setCoherent(true);
    expect(store.peekJson('k:a')).toEqual({ n: 1 });
  });

  it('inside a section reads bypass the cache and writes only evict', async () => {
    const { store, counter } = withFeed();
    await store.put('k:a', bytes('{"n":1}'));
    counter.reads = 0;
    await store.exclusive('session', async () => {
      await store.get('k:a');
      await store.put('k:a', bytes('{"n":2}'));
      expect(store.cachedEntries).toBe(0);
    });
    expect(counter.reads).toBe(1);
    expect(await store.getJson('k:a')).toEqual({ n: 2 });
  });
});
