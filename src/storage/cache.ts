import { decodeJson, type BatchOp, type Store } from './store.js';

/**
 * A write-through read cache in front of a store, for the records every authenticated request
 * reads (keys and sessions). Sound because one process owns the store (wire §6.1): every write
 * passes through here and updates the cache once the inner store has acknowledged it.
 */
export class CachingStore implements Store {
  private readonly cache = new Map<string, Uint8Array>();
  /** Decoded, frozen values of cached entries; dropped whenever the entry changes. */
  private readonly parsed = new Map<string, unknown>();
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
    for (const op of ops) {
      if (!this.cacheable(op.key)) continue;
      if (op.type === 'put') this.remember(op.key, op.value);
      else this.forget(op.key);
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

  peekJson<T>(key: string): T | undefined {
    return this.parsed.get(key) as T | undefined;
  }

  async getJson<T>(key: string): Promise<T | undefined> {
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
    return this.cache.has(key) ? Promise.resolve(true) : this.inner.has(key);
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
