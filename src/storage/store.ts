/**
 * The storage contract every backend meets: string keys, byte values, ordered prefix scans,
 * atomic (and, for durable backends, fsync'd) batches, and an atomic set-if-absent.
 */
export type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

export interface Store {
  /** `undefined` when absent. */
  get(key: string): Promise<Uint8Array | undefined>;
  has(key: string): Promise<boolean>;
  /** Durable when acknowledged. */
  put(key: string, value: Uint8Array): Promise<void>;
  del(key: string): Promise<void>;
  /** All operations apply or none do; durable when acknowledged. */
  batch(ops: BatchOp[]): Promise<void>;
  /**
   * Atomically: if `key` is absent, write it together with `alsoOps` in one durable batch and
   * return true; if present, write nothing and return false. Of any number of concurrent
   * callers for one key, exactly one wins.
   */
  putIfAbsent(key: string, value: Uint8Array, alsoOps?: BatchOp[]): Promise<boolean>;
  /** Entries whose key starts with `prefix`, in byte-lexicographic key order. */
  scan(prefix: string): Promise<Array<[string, Uint8Array]>>;
  /**
   * Entries whose key starts with `prefix`, in byte-lexicographic key order, read a bounded
   * number at a time (a LevelDB iterator, keyset pages of a query), so memory stays flat however
   * many there are: for sweeps over every session or marker. Writes may go on while it runs:
   * an entry present throughout and not written meanwhile is yielded exactly once; one written
   * or deleted during the iteration may or may not be, with its old or new value. Inside an
   * `exclusive` section it reads through the section like every other read. Stopping early
   * (`break`) releases what it holds.
   */
  iterate(prefix: string): AsyncIterable<[string, Uint8Array]>;
  close(): Promise<void>;
  readonly kind: 'memory' | 'level' | 'postgres';
  /**
   * Runs `fn` holding the named lock against every process that shares this store. Sections
   * that read, decide and write (refresh, password changes, revocations) run inside one, so a
   * stale copy never overwrites a newer record. For a shared database the section is also one
   * transaction: its reads see the latest committed state, its writes commit together when `fn`
   * resolves, and none of them do when it throws. Sections nest (same lock names in the same
   * order everywhere: account, then session).
   */
  exclusive<T>(name: LockName, fn: () => Promise<T>): Promise<T>;
  /**
   * The reader side of `exclusive`: runs `fn` holding the named lock SHARED (any number of
   * shared sections run together; an `exclusive` one waits for all of them and they for it) and,
   * when `member` is given, an exclusive lock on that one member (`session` + a sid: sections
   * of one session serialise, different sessions run side by side). The same transaction rules
   * as `exclusive` apply. Lock order: the named lock, then the member; a shared section never
   * takes an exclusive one of the same name (that would wait for itself).
   */
  shared<T>(name: LockName, fn: () => Promise<T>, member?: string): Promise<T>;
  /** Present when other processes write the same store: their writes, as a change feed. */
  readonly feed?: ChangeFeed;
  /**
   * Optional: a decoded JSON value, which a caching store may share between callers. The result
   * is deeply frozen and must not be mutated.
   */
  getJson?<T>(key: string): Promise<T | undefined>;
  /**
   * Optional: the decoded value if it is at hand without I/O (a cache hit), else undefined —
   * which says nothing about whether the key exists. Same sharing rules as getJson.
   */
  peekJson?<T>(key: string): T | undefined;
}

/** The critical sections the service serialises; see `Store.exclusive`. */
export type LockName = 'account' | 'session' | 'secrets';

/** Keys written by other processes, and whether this process is caught up with them. */
export interface ChangeFeed {
  /**
   * Calls `listener` with keys other processes changed, or `'all'` when some changes may have
   * been missed (a reconnect): then every cached record is suspect.
   */
  subscribe(listener: (keys: readonly string[] | 'all') => void): void;
  /**
   * True while this process has heard of every change committed more than the coherence
   * bound ago; a cache must not answer from memory while this is false.
   */
  coherent(): boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes)) as T;
}

export async function getJson<T>(store: Store, key: string): Promise<T | undefined> {
  if (store.getJson) return store.getJson<T>(key);
  const bytes = await store.get(key);
  return bytes === undefined ? undefined : decodeJson<T>(bytes);
}

/**
 * One batch operation checked: `[key, value]` for a put, `[key, undefined]` for a del. Backends
 * stage a whole batch with it first, so a malformed op rejects the batch with nothing applied.
 */
export function checkOp(op: BatchOp): [string, Uint8Array | undefined] {
  if (typeof op.key !== 'string') throw new TypeError('batch key must be a string');
  if (op.type === 'del') return [op.key, undefined];
  if (op.type === 'put' && op.value instanceof Uint8Array) return [op.key, op.value];
  throw new TypeError('batch operation must be a put with a Uint8Array value or a del');
}

export function putOp(key: string, value: unknown): BatchOp {
  return { type: 'put', key, value: encodeJson(value) };
}

export function delOp(key: string): BatchOp {
  return { type: 'del', key };
}

/** A critical section: `run` holds the lock while `fn` runs. */
export interface SectionLock {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** The reader side of a SectionLock (`Store.shared`): per-member sections, and shared ones. */
export interface MemberLocks {
  /** `fn` holding the lock shared and `member` exclusively. */
  run<T>(member: string, fn: () => Promise<T>): Promise<T>;
  /** `fn` holding the lock shared only: it excludes the lock's exclusive sections, nothing else. */
  shared<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * In-process locks for a store that one process owns: per lock name a reader/writer lock
 * (`run` is the writer, `shared` a reader), and per (name, member) a mutex taken inside the
 * reader side. Member mutexes exist only while a section holds or awaits them.
 */
export class LocalLocks {
  private readonly rw = new Map<LockName, RwLock>();
  private readonly members = new KeyedMutex();
  private lock(name: LockName): RwLock {
    let l = this.rw.get(name);
    if (l === undefined) this.rw.set(name, (l = new RwLock()));
    return l;
  }
  run<T>(name: LockName, fn: () => Promise<T>): Promise<T> {
    return this.lock(name).write(fn);
  }
  shared<T>(name: LockName, fn: () => Promise<T>, member?: string): Promise<T> {
    const l = this.lock(name);
    return member === undefined ? l.read(fn) : l.read(() => this.members.run(`${name}\u0000${member}`, fn));
  }
  /** Member mutexes currently held or awaited (0 when idle: entries never outlive their use). */
  get memberCount(): number {
    return this.members.size;
  }
}

/** Serialises critical sections (check-then-write) inside one process that owns the store. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** One mutex per key; an entry is deleted as soon as no section holds or awaits it. */
export class KeyedMutex {
  private readonly entries = new Map<string, { tail: Promise<void>; users: number }>();
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let entry = this.entries.get(key);
    if (entry === undefined) this.entries.set(key, (entry = { tail: Promise.resolve(), users: 0 }));
    const e = entry;
    e.users++;
    const result = e.tail.then(fn).finally(() => {
      if (--e.users === 0) this.entries.delete(key);
    });
    e.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
  get size(): number {
    return this.entries.size;
  }
}

/**
 * A fair reader/writer lock: requests are granted in arrival order, consecutive readers
 * together. A waiting writer holds back readers that arrive after it, so a steady stream of
 * readers (refreshes) cannot starve a writer (a password change, the sweep). Not reentrant.
 */
export class RwLock {
  private readers = 0;
  private writing = false;
  private readonly queue: Array<{ write: boolean; grant: () => void }> = [];

  read<T>(fn: () => Promise<T>): Promise<T> {
    return this.acquire(false, fn);
  }
  write<T>(fn: () => Promise<T>): Promise<T> {
    return this.acquire(true, fn);
  }

  private async acquire<T>(write: boolean, fn: () => Promise<T>): Promise<T> {
    const free = write ? !this.writing && this.readers === 0 : !this.writing;
    if (free && this.queue.length === 0) this.take(write);
    else await new Promise<void>((grant) => this.queue.push({ write, grant }));
    try {
      return await fn();
    } finally {
      if (write) this.writing = false;
      else this.readers--;
      this.wake();
    }
  }

  private take(write: boolean): void {
    if (write) this.writing = true;
    else this.readers++;
  }

  private wake(): void {
    for (let head = this.queue[0]; head !== undefined && !this.writing; head = this.queue[0]) {
      if (head.write && this.readers > 0) return;
      this.queue.shift();
      this.take(head.write);
      head.grant();
      if (head.write) return;
    }
  }
}

/**
 * The ids listed under an index prefix (`idx:root_clients:<id>:`, `idx:key_sessions:<id>:`).
 * Only single-id remainders count: mock key ids may contain ':', and `idx:x:mock_a:b:<sid>` must
 * not show up in the listing of key `mock_a` (wire §6.1).
 */
export async function scanIndexIds(store: Store, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for (const [k] of await store.scan(prefix)) {
    const rest = k.slice(prefix.length);
    if (rest.length > 0 && !rest.includes(':')) out.push(rest);
  }
  return out;
}
