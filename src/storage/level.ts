import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { checkOp, KeyedMutex, LocalLocks, type BatchOp, type LockName, type Store } from './store.js';

/** Another process (or another open instance in this process) holds the LevelDB lock. */
export class StorageLockedError extends Error {
  override readonly name = 'StorageLockedError';
  readonly code = 'STORAGE_LOCKED' as const;
  constructor(
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(`storage at ${path} is locked by another process`, options);
  }
}

/** Any other failure to prepare or open the data directory (not a LevelDB, permissions, …). */
export class StorageOpenError extends Error {
  override readonly name = 'StorageOpenError';
  readonly code = 'STORAGE_OPEN_FAILED' as const;
  constructor(
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`storage at ${path} cannot be opened: ${reason}`, options);
  }
}

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
const SYNC = { sync: true } as const;
/** At most this many callers' batches share one synced write. */
const MAX_GROUP = 256;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * LevelDB-backed store. Every write is fsync'd before it resolves, so an acknowledged write
 * survives `kill -9` and power loss.
 *
 * Permissions: the directory is 0700 and every file present right after open is 0600 (files
 * LevelDB creates during open inherit a 0077 umask; older ones are chmod'ed). Files LevelDB
 * creates later (new logs, SSTs, manifests after compaction) get the process umask; they stay
 * private because nobody else can traverse the 0700 directory. Changing the umask for the
 * lifetime of the process is not this module's call.
 */
export class LevelStore implements Store {
  readonly kind = 'level' as const;
  // Set-if-absent is check-then-write; one process owns the directory (LevelDB's lock), so an
  // in-process mutex per key makes it atomic. Plain writes skip it: LevelDB serialises them itself.
  private readonly lock = new KeyedMutex();
  private readonly sections = new LocalLocks();
  /**
   * Group commit: batches that arrive while a synced write is in flight wait here and go to disk
   * together in the next one (one WriteBatch, one fsync); each caller resolves once that write
   * has landed. Every caller's ops are contiguous and in arrival order in the group.
   */
  private queued: Array<{ ops: BatchOp[]; done: () => void; fail: (e: unknown) => void }> = [];
  private flushing: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly db: ClassicLevel<string, Uint8Array>,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<LevelStore> {
    try {
      await prepareDirectory(path);
    } catch (e) {
      throw new StorageOpenError(path, errorText(e), { cause: e });
    }

    const db = new ClassicLevel<string, Uint8Array>(path, {
      keyEncoding: 'utf8',
      valueEncoding: 'view',
      createIfMissing: true,
    });
    const restoreUmask = privateUmask();
    try {
      await db.open();
    } catch (e) {
      // Best effort even here: a refused open still rotates LevelDB's LOG file.
      await tightenFiles(path).catch(() => undefined);
      if (hasCode(e, 'LEVEL_LOCKED')) throw new StorageLockedError(path, { cause: e });
      throw new StorageOpenError(path, openFailureReason(e), { cause: e });
    } finally {
      restoreUmask();
    }
    try {
      await tightenFiles(path);
    } catch (e) {
      await db.close().catch(() => undefined);
      throw new StorageOpenError(path, errorText(e), { cause: e });
    }
    return new LevelStore(db, path);
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new Error('store is closed');
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.assertOpen();
    const v = await this.db.get(key);
    return v === undefined ? undefined : plain(v);
  }

  async has(key: string): Promise<boolean> {
    this.assertOpen();
    return this.db.has(key);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    await this.write([{ type: 'put', key, value }]);
  }

  async del(key: string): Promise<void> {
    await this.write([{ type: 'del', key }]);
  }

  async batch(ops: BatchOp[]): Promise<void> {
    await this.write(ops);
  }

  /**
   * One atomic, synced write of `ops`, possibly grouped with other callers' (see `queued`).
   * Each caller's ops are checked first, so a malformed batch rejects alone, before the group.
   */
  private write(ops: BatchOp[]): Promise<void> {
    this.assertOpen();
    for (const op of ops) checkOp(op);
    return new Promise((done, fail) => {
      this.queued.push({ ops, done, fail });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.queued.length > 0) {
        const group = this.queued.splice(0, MAX_GROUP);
        const ops = group.length === 1 ? (group[0] as (typeof group)[0]).ops : group.flatMap((g) => g.ops);
        try {
          await this.db.batch(ops, SYNC);
        } catch (e) {
          // Nothing of the WriteBatch was acknowledged: every caller in it sees the error.
          for (const g of group) g.fail(e);
          continue;
        }
        for (const g of group) g.done();
      }
    } finally {
      // In the same tick as the empty-queue check: a write queued later starts a new flush.
      this.flushing = undefined;
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
      if (await this.db.has(key)) return false;
      await this.write([{ type: 'put', key, value }, ...alsoOps]);
      return true;
    });
  }

  async scan(prefix: string): Promise<Array<[string, Uint8Array]>> {
    this.assertOpen();
    const entries = await this.prefixIterator(prefix).all();
    return entries.map(([k, v]) => [decoder.decode(k), plain(v)]);
  }

  async *iterate(prefix: string): AsyncGenerator<[string, Uint8Array]> {
    this.assertOpen();
    // The iterator reads from a snapshot taken now, a few KiB at a time (highWaterMarkBytes).
    const it = this.prefixIterator(prefix);
    try {
      for await (const [k, v] of it) yield [decoder.decode(k), plain(v)];
    } finally {
      await it.close();
    }
  }

  private prefixIterator(prefix: string) {
    // Bounds as bytes: the upper bound of a UTF-8 prefix is often not valid UTF-8 itself.
    const lower = encoder.encode(prefix);
    const upper = prefixUpperBound(lower);
    const range = upper === undefined ? { gte: lower } : { gte: lower, lt: upper };
    return this.db.iterator<Uint8Array, Uint8Array>({ ...range, keyEncoding: 'view', valueEncoding: 'view' });
  }

  close(): Promise<void> {
    // Writes already accepted land (or fail) before the database closes.
    this.closing ??= (this.flushing ?? Promise.resolve()).then(() => this.db.close());
    return this.closing;
  }
}

/**
 * The smallest byte string greater than every string starting with `prefix`: drop trailing 0xFF
 * bytes and increment the last remaining one. `undefined` means "no upper bound".
 */
export function prefixUpperBound(prefix: Uint8Array): Uint8Array | undefined {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  const bound = prefix.slice(0, end);
  bound[end - 1] = (bound[end - 1] ?? 0) + 1;
  return bound;
}

async function prepareDirectory(path: string): Promise<void> {
  // `mode` applies to every directory mkdir creates, parents included.
  await mkdir(path, { recursive: true, mode: DIR_MODE });
  const st = await stat(path);
  if (!st.isDirectory()) throw new Error('not a directory');
  if ((st.mode & 0o777) !== DIR_MODE) await chmod(path, DIR_MODE);
}

async function tightenFiles(path: string): Promise<void> {
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(path, entry.name);
    const st = await stat(file);
    if ((st.mode & 0o777) !== FILE_MODE) await chmod(file, FILE_MODE);
  }
}

// The umask is process-wide and open() awaits, so overlapping opens share one override and the
// last one out restores the original (restoring per call could leave 0077 set for good).
let umaskHolders = 0;
let savedUmask: number | undefined;

/** Sets umask 0077 until the returned function is called. */
function privateUmask(): () => void {
  if (umaskHolders++ === 0) {
    try {
      savedUmask = process.umask(0o077);
    } catch {
      // Worker threads cannot set the umask; the chmod pass after open still applies.
      savedUmask = undefined;
    }
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--umaskHolders === 0 && savedUmask !== undefined) process.umask(savedUmask);
  };
}

/** Values come back as Buffers; hand out plain, unshared Uint8Arrays like the memory store. */
function plain(v: Uint8Array): Uint8Array {
  return new Uint8Array(v);
}

function hasCode(e: unknown, code: string): boolean {
  for (let cur = e, depth = 0; cur instanceof Error && depth < 10; cur = cur.cause, depth++) {
    if ((cur as { code?: unknown }).code === code) return true;
  }
  return false;
}

/** classic-level wraps the useful LevelDB message ("Corruption: …") in a generic outer error. */
function openFailureReason(e: unknown): string {
  const cause = e instanceof Error ? e.cause : undefined;
  return errorText(cause instanceof Error ? cause : e);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
