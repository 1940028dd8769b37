import { checkOp, KeyedMutex, LocalLocks, type BatchOp, type LockName, type Store } from './store.js';

/** Ephemeral store for tests and throwaway nodes; keys sorted like LevelDB's (bytewise). */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  private readonly data = new Map<string, Uint8Array>();
  // Set-if-absent is check-then-write per key: callers for other keys need not wait.
  private readonly lock = new KeyedMutex();
  private readonly sections = new LocalLocks();
  private closed = false;

  private assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.assertOpen();
    const v = this.data.get(key);
    return v === undefined ? undefined : copy(v);
  }

  async has(key: string): Promise<boolean> {
    this.assertOpen();
    return this.data.has(key);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.assertOpen();
    this.data.set(key, copy(value));
  }

  async del(key: string): Promise<void> {
    this.assertOpen();
    this.data.delete(key);
  }

  async batch(ops: BatchOp[]): Promise<void> {
    this.assertOpen();
    // Validate and copy everything first so a malformed op rejects the batch with nothing applied.
    const staged = ops.map(stage);
    for (const [key, value] of staged) {
      if (value === undefined) this.data.delete(key);
      else this.data.set(key, value);
    }
  }

  exclusive<T>(name: LockName, fn: () => Promise<T>): Promise<T> {
    return this.sections.run(name, fn);
  }

  shared<T>(name: LockName, fn: () => Promise<T>, member?: string): Promise<T> {
    return this.sections.shared(name, fn, member);
  }

  /** Member locks held or awaited right now (tests: idle members leave nothing behind). */
  get lockedMembers(): number {
    return this.sections.memberCount;
  }

  putIfAbsent(key: string, value: Uint8Array, alsoOps: BatchOp[] = []): Promise<boolean> {
    return this.lock.run(key, async () => {
      this.assertOpen();
      if (this.data.has(key)) return false;
      await this.batch([{ type: 'put', key, value }, ...alsoOps]);
      return true;
    });
  }

  async scan(prefix: string): Promise<Array<[string, Uint8Array]>> {
    this.assertOpen();
    const out: Array<[string, Uint8Array]> = [];
    for (const [k, v] of this.data) if (k.startsWith(prefix)) out.push([k, copy(v)]);
    return out.sort((a, b) => compareBytewise(a[0], b[0]));
  }

  async *iterate(prefix: string): AsyncGenerator<[string, Uint8Array]> {
    this.assertOpen();
    // The keys present now, in byte order (each encoded once for the sort); every value is
    // read when its turn comes, so one deleted meanwhile is skipped.
    const keys: Array<[Buffer, string]> = [];
    for (const k of this.data.keys()) if (k.startsWith(prefix)) keys.push([Buffer.from(k, 'utf8'), k]);
    keys.sort((a, b) => Buffer.compare(a[0], b[0]));
    for (const [, k] of keys) {
      this.assertOpen();
      const v = this.data.get(k);
      if (v !== undefined) yield [k, copy(v)];
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A plain, unshared copy: `Buffer#slice` would return a view sharing the caller's memory. */
function copy(v: Uint8Array): Uint8Array {
  return new Uint8Array(v);
}

function stage(op: BatchOp): [string, Uint8Array | undefined] {
  const [key, value] = checkOp(op);
  return [key, value === undefined ? undefined : copy(value)];
}

/** LevelDB orders keys by their UTF-8 bytes; JS string comparison orders UTF-16 units. */
export function compareBytewise(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
