import { AsyncLocalStorage } from 'node:async_hooks';
import { decodeJson, type BatchOp, type ChangeFeed, type LockName, type Store } from './store.js';

/**
 * A write-through read cache in front of a store, for the records every authenticated request
 * reads (keys and sessions). Every write made here updates the cache once the inner store has
 * acknowledged it. When one process owns the store (level, memory) that is the whole story. When
 * other processes write it too (postgres), their writes arrive through the store's change feed
 * and evict what they touched, and while the feed is not known to be caught up (the coherence
 * bound) the cache answers nothing: every read goes to the database. Inside an `exclusive`
 * section of a shared store, reads bypass the cache and writes only evict, because the section's
 * transaction has not committed yet.
 */
export class CachingStore implements Store {
  private readonly cache = new Map<string, Uint8Array>();
  /** Decoded, frozen values of cached entries; dropped whenever the entry changes. */
  private readonly parsed = new Map<string, unknown>();
  /** Bumped by every write; a read that raced a write does not populate the cache. */
  private writes = 0;
  readonly feed: ChangeFeed | undefined;
  /** Keys written inside the current section of a shared store; evicted again when it ends. */
  private readonly section = new AsyncLocalStorage<Set<string>>();

  constructor(
    private readonly inner: Store,
    private readonly prefixes: readonly string[],
    private readonly max = 50_000,
  ) {
    this.feed = inner.feed;
    this.feed?.subscribe((keys) => {
      this.writes++;
      if (keys === 'all') {
        this.cache.clear();
        this.parsed.clear();
      } else for (const key of keys) this.forget(key);
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
    return enter(() => this.section.run(touched, fn))
      .finally(() => {
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
    if (!this.cache.has(key) && this.cache.size >= this.max) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.forget(oldest.value);
    }
    this.parsed.delete(key);
    this.cache.set(key, new Uint8Array(value));
  }

  private forget(key: string): void {
    this.cache.delete(key);
    this.parsed.delete(key);
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
    if (hit !== undefined) return new Uint8Array(hit);
    const before = this.writes;
    const value = await this.inner.get(key);
    if (value !== undefined && before === this.writes && this.cacheable(key)) this.remember(key, value);
    return value;
  }

  peekJson<T>(key: string): T | undefined {
    if (this.feed !== undefined && !this.usable()) return undefined;
    return this.parsed.get(key) as T | undefined;
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    if (!this.usable()) {
      const bytes = await this.inner.get(key);
      return bytes === undefined ? undefined : deepFreeze(decodeJson<T>(bytes));
    }
    const hit = this.parsed.get(key);
    if (hit !== undefined) return hit as T;
    const before = this.writes;
    const bytes = await this.get(key);
    if (bytes === undefined) return undefined;
    const value = deepFreeze(decodeJson<T>(bytes));
    // Only share it if no write landed meanwhile (the bytes may already be stale).
    if (before === this.writes && this.cache.has(key)) this.parsed.set(key, value);
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
    this.parsed.clear();
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
