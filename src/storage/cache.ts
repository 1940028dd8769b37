import { AsyncLocalStorage } from 'node:async_hooks';
import { getHeapStatistics } from 'node:v8';
import { LRUCache } from 'lru-cache';
import { decodeJson, type BatchOp, type ChangeFeed, type LockName, type Store } from './store.js';

const MB = 1024 * 1024;

/**
 * The byte budget of a CachingStore when none is given: 1 % of the heap limit, between 4 and
 * 8 MB. At about 1 KB a session (below) 8 MB holds some 8,000 sessions and keys, the live
 * working set of a busy node; a miss costs one store read (LevelDB: microseconds, and its own
 * block cache), never a wrong answer. Kept small so that a node with 100,000 sessions stays
 * under 150 MB RSS together with the verified-token cache (src/tokens/signature-cache.ts):
 * measured 139–140 MB with 8 MB, 153–168 MB with 16 MB (bench/memory.mjs, issue 11).
 */
export function cacheBudgetBytes(heapLimit = getHeapStatistics().heap_size_limit): number {
  return Math.min(8 * MB, Math.max(4 * MB, Math.floor(heapLimit * 0.01)));
}

/**
 * One cached record. The bytes are kept as a latin1 string, one character per byte: measured on
 * Node 20 a ~200-byte record costs ~0.2 KB that way against ~0.8 KB of heap plus an off-heap
 * allocation as a Uint8Array of its own.
 */
interface Entry {
  readonly text: string;
  /** The decoded, deeply frozen value, once getJson asked for it. */
  parsed: unknown;
}

// Per entry besides the key and the bytes: the entry object, the LRU's slot and map entry.
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * An entry's approximate footprint, counted when it is stored: the key (two bytes a character at
 * worst), the bytes, a decoded value of about twice their size (JSON objects and strings on the
 * heap) whether or not it is decoded yet, and the fixed overhead. On a session record (~200
 * bytes, 44-character key) that is ~950 bytes.
 */
const sizeOf = (entry: Entry, key: string): number => 2 * key.length + 3 * entry.text.length + ENTRY_OVERHEAD_BYTES;

const toText = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
/** A plain Uint8Array of its own (Buffer.from may hand out a slice of a shared pool). */
const fromText = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));

/**
 * A write-through read cache in front of a store, for the records every authenticated request
 * reads (keys and sessions). Every write made here updates the cache once the inner store has
 * acknowledged it. When one process owns the store (level, memory) that is the whole story. When
 * other processes write it too (postgres), their writes arrive through the store's change feed
 * and evict what they touched, and while the feed is not known to be caught up (the coherence
 * bound) the cache answers nothing: every read goes to the database. Inside an `exclusive`
 * section of a shared store, reads bypass the cache and writes only evict, because the section's
 * transaction has not committed yet.
 *
 * Bounded by bytes (`budgetBytes`, approximate: see sizeOf), least recently used evicted first; a
 * record larger than the whole budget is not cached at all.
 */
export class CachingStore implements Store {
  /** Records by key, with their decoded values; an entry is replaced whenever its record changes. */
  private readonly cache: LRUCache<string, Entry>;
  /** Bumped by every write; a read that raced a write does not populate the cache. */
  private writes = 0;
  readonly feed: ChangeFeed | undefined;
  /** Keys written inside the current section of a shared store; evicted again when it ends. */
  private readonly section = new AsyncLocalStorage<Set<string>>();

  constructor(
    private readonly inner: Store,
    private readonly prefixes: readonly string[],
    budgetBytes = cacheBudgetBytes(),
  ) {
    this.cache = new LRUCache<string, Entry>({ maxSize: Math.max(1, budgetBytes), sizeCalculation: sizeOf });
    this.feed = inner.feed;
    this.feed?.subscribe((keys) => {
      this.writes++;
      if (keys === 'all') this.cache.clear();
      else for (const key of keys) this.forget(key);
    });
  }

  /** Whether the cache may answer now (always, for a store no one else writes). */
  private usable(): boolean {
    return this.feed === undefined || (this.feed.coherent() && this.section.getStore() === undefined);
  }

  exclusive<T>(name: LockName, fn: () => Promise<T>): Promise<T> {
    return this.inSection((inner) => this.inner.exclusive(name, inner), fn);
  }

  shared<T>(name: LockName, fn: () => Promise<T>, member?: string): Promise<T> {
    return this.inSection((inner) => this.inner.shared(name, inner, member), fn);
  }

  /** `fn` in a section the inner store opens with `enter`, with the cache rules of a section. */
  private inSection<T>(enter: (inner: () => Promise<T>) => Promise<T>, fn: () => Promise<T>): Promise<T> {
    if (this.feed === undefined || this.section.getStore() !== undefined) return enter(fn);
    const touched = new Set<string>();
    return enter(() => this.section.run(touched, fn)).finally(() => {
      // Committed or rolled back: what was evicted during the section is read afresh.
      this.writes++;
      for (const key of touched) this.forget(key);
    });
  }

  get kind(): Store['kind'] {
    return this.inner.kind;
  }

  private cacheable(key: string): boolean {
    for (const p of this.prefixes) if (key.startsWith(p)) return true;
    return false;
  }

  private remember(key: string, value: Uint8Array): void {
    // Dropped first: a record too large for the budget is not stored, and no older copy stays.
    this.cache.delete(key);
    this.cache.set(key, { text: toText(value), parsed: undefined });
  }

  private forget(key: string): void {
    this.cache.delete(key);
  }

  /** Bytes held by the cached entries, as counted against the budget (approximate). */
  get cachedBytes(): number {
    return this.cache.calculatedSize;
  }

  /** Number of cached entries. */
  get cachedEntries(): number {
    return this.cache.size;
  }

  private apply(ops: readonly BatchOp[]): void {
    this.writes++;
    const touched = this.feed === undefined ? undefined : this.section.getStore();
    if (touched !== undefined) {
      // Not committed yet: evict only, and again once the section ends.
      for (const op of ops) {
        touched.add(op.key);
        this.forget(op.key);
      }
      return;
    }
    for (const op of ops) {
      if (!this.cacheable(op.key)) continue;
      if (op.type === 'put') this.remember(op.key, op.value);
      else this.forget(op.key);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    if (!this.usable()) return this.inner.get(key);
    const hit = this.cache.get(key);
    if (hit !== undefined) return fromText(hit.text);
    const before = this.writes;
    const value = await this.inner.get(key);
    if (value !== undefined && before === this.writes && this.cacheable(key)) this.remember(key, value);
    return value;
  }

  peekJson<T>(key: string): T | undefined {
    if (this.feed !== undefined && !this.usable()) return undefined;
    return this.cache.get(key)?.parsed as T | undefined;
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    if (!this.usable()) {
      const bytes = await this.inner.get(key);
      return bytes === undefined ? undefined : deepFreeze(decodeJson<T>(bytes));
    }
    const hit = this.cache.get(key)?.parsed;
    if (hit !== undefined) return hit as T;
    const before = this.writes;
    const bytes = await this.get(key);
    if (bytes === undefined) return undefined;
    const value = deepFreeze(decodeJson<T>(bytes));
    // Only share it if no write landed meanwhile (the bytes may already be stale).
    const entry = before === this.writes ? this.cache.peek(key) : undefined;
    if (entry !== undefined) entry.parsed = value;
    return value;
  }

  has(key: string): Promise<boolean> {
    return this.usable() && this.cache.has(key) ? Promise.resolve(true) : this.inner.has(key);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.writes++;
    try {
      await this.inner.put(key, value);
    } finally {
      // On failure the state is unknown: forget rather than guess.
      this.forget(key);
    }
    this.apply([{ type: 'put', key, value }]);
  }

  async del(key: string): Promise<void> {
    this.writes++;
    try {
      await this.inner.del(key);
    } finally {
      this.forget(key);
    }
    this.apply([{ type: 'del', key }]);
  }

  async batch(ops: BatchOp[]): Promise<void> {
    this.writes++;
    try {
      await this.inner.batch(ops);
    } catch (e) {
      for (const op of ops) this.forget(op.key);
      throw e;
    }
    this.apply(ops);
  }

  async putIfAbsent(key: string, value: Uint8Array, alsoOps: BatchOp[] = []): Promise<boolean> {
    this.writes++;
    let won: boolean;
    try {
      won = await this.inner.putIfAbsent(key, value, alsoOps);
    } catch (e) {
      this.forget(key);
      for (const op of alsoOps) this.forget(op.key);
      throw e;
    }
    if (won) this.apply([{ type: 'put', key, value }, ...alsoOps]);
    return won;
  }

  scan(prefix: string): Promise<Array<[string, Uint8Array]>> {
    return this.inner.scan(prefix);
  }

  /** Straight from the inner store: a sweep over every record neither reads nor fills the cache. */
  iterate(prefix: string): AsyncIterable<[string, Uint8Array]> {
    return this.inner.iterate(prefix);
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.inner.close();
  }
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}
