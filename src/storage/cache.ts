import type { BatchOp, Store } from './store.js';

/**
 * A write-through read cache in front of a store, for the records every authenticated request
 * reads (keys and sessions). Sound because one process owns the store (wire §6.1): every write
 * passes through here and updates the cache once the inner store has acknowledged it.
 */
export class CachingStore implements Store {
  private readonly cache = new Map<string, Uint8Array>();
  /** Bumped by every write; a read that raced a write does not populate the cache. */
  private writes = 0;

  constructor(
    private readonly inner: Store,
    private readonly prefixes: readonly string[],
    private readonly max = 50_000,
  ) {}

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
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(key, new Uint8Array(value));
  }

  private apply(ops: readonly BatchOp[]): void {
    this.writes++;
    for (const op of ops) {
      if (!this.cacheable(op.key)) continue;
      if (op.type === 'put') this.remember(op.key, op.value);
      else this.cache.delete(op.key);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const hit = this.cache.get(key);
    if (hit !== undefined) return new Uint8Array(hit);
    const before = this.writes;
    const value = await this.inner.get(key);
    if (value !== undefined && before === this.writes && this.cacheable(key)) this.remember(key, value);
    return value;
  }

  has(key: string): Promise<boolean> {
    return this.cache.has(key) ? Promise.resolve(true) : this.inner.has(key);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.writes++;
    try {
      await this.inner.put(key, value);
    } finally {
      // On failure the state is unknown: forget rather than guess.
      this.cache.delete(key);
    }
    this.apply([{ type: 'put', key, value }]);
  }

  async del(key: string): Promise<void> {
    this.writes++;
    try {
      await this.inner.del(key);
    } finally {
      this.cache.delete(key);
    }
    this.apply([{ type: 'del', key }]);
  }

  async batch(ops: BatchOp[]): Promise<void> {
    this.writes++;
    try {
      await this.inner.batch(ops);
    } catch (e) {
      for (const op of ops) this.cache.delete(op.key);
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
      this.cache.delete(key);
      for (const op of alsoOps) this.cache.delete(op.key);
      throw e;
    }
    if (won) this.apply([{ type: 'put', key, value }, ...alsoOps]);
    return won;
  }

  scan(prefix: string): Promise<Array<[string, Uint8Array]>> {
    return this.inner.scan(prefix);
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.inner.close();
  }
}
