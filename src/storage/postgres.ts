import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { prefixUpperBound, StorageOpenError } from './level.js';
import { checkOp, LocalLocks, type BatchOp, type ChangeFeed, type LockName, type Store } from './store.js';

/**
 * The database cannot be reached or did not answer in time. The HTTP layer answers 503 for it:
 * the request may be retried, nothing it did was acknowledged.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'STORE_UNAVAILABLE' as const;
}

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database?…` */
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  /** The change feed is read this often even when no notification arrives. */
  pollIntervalMs: number;
  /** Without a successful feed read for this long, cached records are not trusted. */
  coherenceBoundMs: number;
  log?: { info(msg: string): void; warn(msg: string): void };
  /** Monotonic milliseconds, for the coherence bound (tests inject one). */
  nowMs?: () => number;
}

/** Advisory lock namespace ("MERA") and one id per lock; 0 is the migration lock. */
const LOCK_NAMESPACE = 0x4d455241;
const LOCK_IDS: Record<LockName | 'migrate', number> = { migrate: 0, account: 1, session: 2, secrets: 3 };
/**
 * Member locks of `shared(name, fn, member)`: one namespace per lock name ("MER1".."MER3"), and a
 * 32-bit hash of the member (`memberLockId`). Two members sharing a hash only wait for each other.
 */
const MEMBER_NAMESPACES: Record<LockName, number> = { account: 0x4d455231, session: 0x4d455232, secrets: 0x4d455233 };
const NOTIFY_CHANNEL = 'mero_auth_changes';
/** Consumed-refresh markers are never cached; keeping them out of the feed keeps it small. */
const UNFED_PREFIX = 'system:refresh:consumed:';
const FEED_BATCH = 10_000;
/** Rows per page of `iterate`. */
export const ITERATE_PAGE = 1000;
const CHANGES_KEPT = "interval '10 minutes'";
const PRUNE_EVERY_MS = 60_000;

/**
 * Each entry moves the schema one version up; applied in order at start, under an advisory
 * lock so instances starting together migrate once. Never edit a shipped entry: append.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE mero_auth_kv (key bytea PRIMARY KEY, value bytea NOT NULL);
   CREATE TABLE mero_auth_feed (id int PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL);
   INSERT INTO mero_auth_feed VALUES (1, 0);
   CREATE TABLE mero_auth_changes (
     seq bigint NOT NULL, key bytea NOT NULL, origin uuid NOT NULL, at timestamptz NOT NULL DEFAULT now());
   CREATE INDEX mero_auth_changes_seq ON mero_auth_changes (seq);
   CREATE TABLE mero_auth_login_attempts (
     bucket text NOT NULL, id uuid NOT NULL, at_ms bigint NOT NULL, failed boolean NOT NULL,
     PRIMARY KEY (bucket, id));`,
];
export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

interface Tx {
  client: pg.PoolClient;
  /** `name` (exclusive), `shared:name`, `member:name:member`: the locks the transaction holds. */
  held: Set<string>;
  changed: Set<string>;
}

type Listener = (keys: readonly string[] | 'all') => void;

/**
 * PostgreSQL-backed store for several instances on one database. Records are the same bytes as
 * in the other backends, in one key/value table with byte-ordered keys. What one process could
 * do with mutexes the database does here: `exclusive` sections are transactions holding an
 * advisory lock, set-if-absent is `INSERT … ON CONFLICT DO NOTHING`, and every committed write
 * appends its keys to a gap-free change feed (`mero_auth_changes`, numbered under a row lock so
 * numbers follow commit order) that the other instances read on NOTIFY and on a timer.
 */
export class PostgresStore implements Store, ChangeFeed {
  readonly kind = 'postgres' as const;
  readonly feed: ChangeFeed = this;
  private readonly tx = new AsyncLocalStorage<Tx>();
  // Waiting for a lock in-process first keeps waiters from holding pool connections.
  private readonly local = new LocalLocks();
  private readonly origin = randomUUID();
  private readonly listeners: Listener[] = [];
  private readonly nowMs: () => number;
  private lastSeq = 0;
  private lastOkAtMs = Number.NEGATIVE_INFINITY;
  private lastPruneMs = Number.NEGATIVE_INFINITY;
  private polling: Promise<void> | undefined;
  private pollAgain = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private notifier: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private feedFailing = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly opts: PostgresStoreOptions,
  ) {
    this.nowMs = opts.nowMs ?? (() => performance.now());
  }

  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize,
      statement_timeout: opts.statementTimeoutMs,
      // The server enforces statement_timeout only while it can still answer: a database that
      // stops answering (dropped packets, failover) must fail the query here too.
      query_timeout: opts.statementTimeoutMs + opts.connectTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: opts.connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'mero-auth',
    });
    // An idle client losing its connection is reported here; without a handler it would crash.
    pool.on('error', (e) => opts.log?.warn(`postgres: idle connection lost: ${e.message}`));
    const store = new PostgresStore(pool, opts);
    try {
      await store.migrate();
      const head = await pool.query<{ seq: string }>('SELECT seq FROM mero_auth_feed WHERE id = 1');
      store.lastSeq = Number(head.rows[0]?.seq ?? 0);
      store.lastOkAtMs = store.nowMs();
      await store.listen();
    } catch (e) {
      await store.close().catch(() => undefined);
      if (e instanceof StorageOpenError) throw e;
      throw new StorageOpenError(redactUrl(opts.url), errorText(e), { cause: e });
    }
    store.pollTimer = setInterval(() => store.poll(), opts.pollIntervalMs);
    store.pollTimer.unref();
    return store;
  }

  // ---- key/value -------------------------------------------------------------------------

  async get(key: string): Promise<Uint8Array | undefined> {
    const r = await this.query<{ value: Buffer }>('SELECT value FROM mero_auth_kv WHERE key = $1', [keyBytes(key)]);
    const row = r.rows[0];
    return row === undefined ? undefined : new Uint8Array(row.value);
  }

  async has(key: string): Promise<boolean> {
    const r = await this.query('SELECT 1 FROM mero_auth_kv WHERE key = $1', [keyBytes(key)]);
    return (r.rowCount ?? 0) > 0;
  }

  put(key: string, value: Uint8Array): Promise<void> {
    return this.batch([{ type: 'put', key, value }]);
  }

  del(key: string): Promise<void> {
    return this.batch([{ type: 'del', key }]);
  }

  async batch(ops: BatchOp[]): Promise<void> {
    const staged = stage(ops); // malformed ops reject before anything is sent
    await this.write((tx) => applyStaged(tx, staged));
  }

  async putIfAbsent(key: string, value: Uint8Array, alsoOps: BatchOp[] = []): Promise<boolean> {
    const staged = stage(alsoOps);
    if (!(value instanceof Uint8Array)) throw new TypeError('value must be a Uint8Array');
    return this.write(async (tx) => {
      const r = await tx.client.query('INSERT INTO mero_auth_kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
        keyBytes(key),
        Buffer.from(value),
      ]);
      if ((r.rowCount ?? 0) === 0) return false;
      tx.changed.add(key);
      await applyStaged(tx, staged);
      return true;
    });
  }

  async scan(prefix: string): Promise<Array<[string, Uint8Array]>> {
    const { lower, upper } = prefixBounds(prefix);
    const r =
      upper === undefined
        ? await this.query<{ key: Buffer; value: Buffer }>('SELECT key, value FROM mero_auth_kv WHERE key >= $1 ORDER BY key', [
            lower,
          ])
        : await this.query<{ key: Buffer; value: Buffer }>(
            'SELECT key, value FROM mero_auth_kv WHERE key >= $1 AND key < $2 ORDER BY key',
            [lower, upper],
          );
    return r.rows.map((row) => [row.key.toString('utf8'), new Uint8Array(row.value)]);
  }

  /**
   * Keyset pages of ITERATE_PAGE rows: each page starts after the last key of the one before
   * (never OFFSET, never one result with every row). Each page is its own query, on the
   * section's transaction when inside one, so it sees what was committed (or written in the
   * section) by then.
   */
  async *iterate(prefix: string): AsyncGenerator<[string, Uint8Array]> {
    const { lower, upper } = prefixBounds(prefix);
    const below = upper === undefined ? '' : ' AND key < $2';
    let after: Buffer | undefined;
    for (;;) {
      const params: Buffer[] = [after ?? lower];
      if (upper !== undefined) params.push(upper);
      const r = await this.query<{ key: Buffer; value: Buffer }>(
        `SELECT key, value FROM mero_auth_kv WHERE key ${after === undefined ? '>=' : '>'} $1${below} ORDER BY key LIMIT ${ITERATE_PAGE}`,
        params,
      );
      for (const row of r.rows) yield [row.key.toString('utf8'), new Uint8Array(row.value)];
      const last = r.rows[r.rows.length - 1];
      if (last === undefined || r.rows.length < ITERATE_PAGE) return;
      after = last.key;
    }
  }

  async exclusive<T>(name: LockName, fn: () => Promise<T>): Promise<T> {
    const current = this.tx.getStore();
    if (current !== undefined) {
      if (!current.held.has(name)) {
        await this.lock(current.client, name);
        current.held.add(name);
      }
      return fn();
    }
    return this.local.run(name, () =>
      this.transaction(
        async (tx) => {
          tx.held.add(name);
          return this.tx.run(tx, fn);
        },
        lockStatements(name, 'exclusive'),
      ),
    );
  }

  /**
   * `pg_advisory_xact_lock_shared` on the name and, for a member, `pg_advisory_xact_lock` on
   * (its namespace, hash of the member), taken with BEGIN in one round trip; the local locks are
   * waited for first, so waiters hold no pool connection.
   */
  async shared<T>(name: LockName, fn: () => Promise<T>, member?: string): Promise<T> {
    const sharedTag = `shared:${name}`;
    const memberTag = member === undefined ? undefined : `member:${name}:${member}`;
    const current = this.tx.getStore();
    if (current !== undefined) {
      // Inside a section: what it holds already covers this (exclusive covers shared).
      if (!current.held.has(name) && !current.held.has(sharedTag)) {
        await current.client.query(lockStatements(name, 'shared'));
        current.held.add(sharedTag);
      }
      if (member !== undefined && memberTag !== undefined && !current.held.has(name) && !current.held.has(memberTag)) {
        await current.client.query(lockStatements(name, 'member', member));
        current.held.add(memberTag);
      }
      return fn();
    }
    return this.local.shared(
      name,
      () =>
        this.transaction(
          async (tx) => {
            tx.held.add(sharedTag);
            if (memberTag !== undefined) tx.held.add(memberTag);
            return this.tx.run(tx, fn);
          },
          member === undefined
            ? lockStatements(name, 'shared')
            : `${lockStatements(name, 'shared')}; ${lockStatements(name, 'member', member)}`,
        ),
      member,
    );
  }

  /**
   * Login-failure buckets shared by every instance (wire §8.1, across processes): one
   * transaction per decision, under an advisory lock per bucket.
   */
  loginAttempts(): SharedLoginAttempts {
    return new SharedLoginAttempts(this);
  }

  // ---- change feed -----------------------------------------------------------------------

  subscribe(listener: Listener): void {
    this.listeners.push(listener);
  }

  coherent(): boolean {
    return this.nowMs() - this.lastOkAtMs <= this.opts.coherenceBoundMs;
  }

  /** Reads the feed now (coalesced with a read in progress); resolves when caught up or failed. */
  poll(): Promise<void> {
    if (this.closing !== undefined) return Promise.resolve();
    if (this.polling !== undefined) {
      this.pollAgain = true;
      return this.polling;
    }
    this.polling = (async () => {
      do {
        this.pollAgain = false;
        await this.readFeed();
      } while (this.pollAgain && this.closing === undefined);
    })().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async readFeed(): Promise<void> {
    const started = this.nowMs();
    try {
      const head = await this.pool.query<{ seq: string }>('SELECT seq FROM mero_auth_feed WHERE id = 1');
      const headSeq = Number(head.rows[0]?.seq ?? 0);
      if (headSeq !== this.lastSeq) {
        const r = await this.pool.query<{ seq: string; key: Buffer; origin: string }>(
          'SELECT seq, key, origin FROM mero_auth_changes WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3',
          [this.lastSeq, headSeq, FEED_BATCH],
        );
        const first = r.rows[0];
        // A full batch may have cut the newest change in half: never call that complete.
        const complete =
          r.rows.length < FEED_BATCH &&
          headSeq > this.lastSeq &&
          first !== undefined &&
          Number(first.seq) === this.lastSeq + 1 &&
          Number(r.rows[r.rows.length - 1]?.seq) === headSeq;
        if (complete) {
          const keys: string[] = [];
          for (const row of r.rows) if (row.origin !== this.origin) keys.push(row.key.toString('utf8'));
          if (keys.length > 0) this.emit(keys);
        } else {
          // Pruned past us, too many, or the database was replaced: drop everything cached.
          this.emit('all');
        }
        this.lastSeq = headSeq;
      }
      this.lastOkAtMs = started;
      if (this.feedFailing) {
        this.feedFailing = false;
        this.opts.log?.info('postgres: change feed caught up again');
      }
      if (started - this.lastPruneMs >= PRUNE_EVERY_MS) {
        this.lastPruneMs = started;
        await this.pool.query(`DELETE FROM mero_auth_changes WHERE at < now() - ${CHANGES_KEPT}`);
      }
    } catch (e) {
      if (!this.feedFailing) {
        this.feedFailing = true;
        this.opts.log?.warn(`postgres: change feed unreadable, caches bypassed until it is back: ${errorText(e)}`);
      }
    }
  }

  private emit(keys: readonly string[] | 'all'): void {
    for (const l of this.listeners) {
      try {
        l(keys);
      } catch (e) {
        this.opts.log?.warn(`change listener failed: ${errorText(e)}`);
      }
    }
  }

  /** A dedicated connection LISTENing for commits; reconnects by itself with backoff. */
  private async listen(attempt = 0): Promise<void> {
    const client = new pg.Client({
      connectionString: this.opts.url,
      connectionTimeoutMillis: this.opts.connectTimeoutMs,
      application_name: 'mero-auth-feed',
    });
    const retry = () => {
      if (this.closing !== undefined || this.reconnectTimer !== undefined) return;
      if (this.notifier === client) this.notifier = undefined;
      client.end().catch(() => undefined);
      const delay = Math.min(5_000, 100 * 2 ** Math.min(attempt, 6));
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        this.listen(attempt + 1).catch(() => undefined);
      }, delay);
      this.reconnectTimer.unref();
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', () => void this.poll());
    try {
      await client.connect();
      await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    } catch (e) {
      if (attempt === 0) throw e; // at startup: the caller reports it
      retry();
      return;
    }
    if (this.closing !== undefined) {
      await client.end().catch(() => undefined);
      return;
    }
    this.notifier = client;
    if (attempt > 0) {
      attempt = 0;
      void this.poll(); // what was committed while we were deaf
    }
  }

  // ---- plumbing --------------------------------------------------------------------------

  private async lock(client: pg.PoolClient, name: LockName): Promise<void> {
    await client.query(lockStatements(name, 'exclusive'));
  }

  /** A query on the section's transaction when inside one, else on the pool. */
  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params: unknown[],
  ): Promise<pg.QueryResult<R>> {
    this.assertOpen();
    const current = this.tx.getStore();
    try {
      return await (current ? current.client.query<R>(sql, params) : this.pool.query<R>(sql, params));
    } catch (e) {
      throw unavailable(e);
    }
  }

  /** Runs `fn` in the current section's transaction, or in one of its own. */
  private async write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    this.assertOpen();
    const current = this.tx.getStore();
    if (current !== undefined) {
      try {
        return await fn(current);
      } catch (e) {
        throw unavailable(e);
      }
    }
    return this.transaction(fn);
  }

  /** `locks`: statements taking advisory locks with BEGIN, in the same round trip (lockStatements). */
  private async transaction<T>(fn: (tx: Tx) => Promise<T>, locks?: string): Promise<T> {
    this.assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw unavailable(e);
    }
    // A checked-out client has no listener of the pool's: without one, the server dropping the
    // connection mid-section would be an uncaught 'error' event that ends the process. The query
    // in flight fails on its own; this only remembers that the client is unusable.
    let broken: Error | undefined;
    const onError = (e: Error) => {
      broken ??= e;
    };
    client.on('error', onError);
    try {
      // Constants only (no parameters), so every statement goes in one simple query.
      await client.query(locks === undefined ? 'BEGIN' : `BEGIN; ${locks}`);
      const tx: Tx = { client, held: new Set(), changed: new Set() };
      const result = await fn(tx);
      await this.publish(tx);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      if (broken === undefined) await client.query('ROLLBACK').catch((re: Error) => (broken = re));
      throw broken !== undefined && !isDatabaseFailure(e) && !(e instanceof StoreUnavailableError)
        ? unavailable(broken)
        : unavailable(e);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  /** Appends the transaction's keys to the feed; the row lock on the counter orders commits. */
  private async publish(tx: Tx): Promise<void> {
    const keys = [...tx.changed].filter((k) => !k.startsWith(UNFED_PREFIX));
    if (keys.length === 0) return;
    // One round trip: number the change, record its keys, notify (delivered on commit).
    await tx.client.query(
      `WITH s AS (UPDATE mero_auth_feed SET seq = seq + 1 WHERE id = 1 RETURNING seq),
            i AS (INSERT INTO mero_auth_changes (seq, key, origin)
                  SELECT s.seq, k, $1 FROM s, unnest($2::bytea[]) AS k)
       SELECT pg_notify($3, s.seq::text) FROM s`,
      [this.origin, keys.map(keyBytes), NOTIFY_CHANNEL],
    );
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const onError = (e: Error) => {
      broken ??= e;
    };
    client.on('error', onError); // see transaction()
    try {
      await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, LOCK_IDS.migrate]);
      try {
        await client.query('CREATE TABLE IF NOT EXISTS mero_auth_schema (version int NOT NULL)');
        const r = await client.query<{ version: number }>('SELECT version FROM mero_auth_schema');
        let version = r.rows[0]?.version ?? 0;
        if (r.rows.length === 0) await client.query('INSERT INTO mero_auth_schema VALUES (0)');
        if (version > MIGRATIONS.length) {
          throw new StorageOpenError(
            redactUrl(this.opts.url),
            `the database schema is version ${version}, newer than this build knows (${MIGRATIONS.length})`,
          );
        }
        for (; version < MIGRATIONS.length; version++) {
          await client.query('BEGIN');
          try {
            await client.query(MIGRATIONS[version] as string);
            await client.query('UPDATE mero_auth_schema SET version = $1', [version + 1]);
            await client.query('COMMIT');
          } catch (e) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw e;
          }
          this.opts.log?.info(`postgres: schema migrated to version ${version + 1}`);
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, LOCK_IDS.migrate]).catch((e: Error) => {
          broken = e;
        });
      }
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new Error('store is closed');
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.pollTimer) clearInterval(this.pollTimer);
      if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
      await this.polling?.catch(() => undefined);
      const notifier = this.notifier;
      this.notifier = undefined;
      await notifier?.end().catch(() => undefined);
      await this.pool.end();
    })();
    return this.closing;
  }

  /** For SharedLoginAttempts: a transaction of its own, with the same error mapping. */
  runTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.transaction((tx) => fn(tx.client));
  }
}

/** Decision of `SharedLoginAttempts.begin`. */
export type AttemptAdmission = { admitted: true; id: string } | { admitted: false; retryAfterSeconds: number };

export interface BucketLimit {
  bucket: string;
  maxFailures: number;
}

/**
 * Login-failure accounting in the database, so N instances share one budget per bucket. An
 * attempt is recorded as pending before its password is checked and counts against the budget
 * until it ends; a failure stays in the window, a success clears the identity bucket. Pending
 * rows of an instance that died expire after `PENDING_TTL_MS`.
 */
export class SharedLoginAttempts {
  static readonly PENDING_TTL_MS = 120_000;
  constructor(private readonly store: PostgresStore) {}

  /**
   * Admits an attempt when every bucket has budget left counting attempts in flight; refuses
   * with the seconds until the oldest failure leaves the window when failures alone fill it, or
   * 1 when attempts in flight do.
   */
  begin(limits: readonly BucketLimit[], nowMs: number, windowMs: number): Promise<AttemptAdmission> {
    const id = randomUUID();
    // Bucket names carry client input (any code point, NUL included): store a digest of them.
    const sorted = limits
      .filter((l) => l.maxFailures > 0)
      .map((l) => ({ bucket: bucketId(l.bucket), maxFailures: l.maxFailures }))
      .sort((a, b) => (a.bucket < b.bucket ? -1 : 1));
    return this.store.runTransaction(async (client) => {
      let retry = 0;
      let locked = false;
      for (const { bucket, maxFailures } of sorted) {
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`mero_auth:login:${bucket}`]);
        await client.query(
          'DELETE FROM mero_auth_login_attempts WHERE bucket = $1 AND ((failed AND at_ms < $2) OR (NOT failed AND at_ms < $3))',
          [bucket, nowMs - windowMs, nowMs - SharedLoginAttempts.PENDING_TTL_MS],
        );
        const r = await client.query<{ failed: boolean; at_ms: string }>(
          'SELECT failed, at_ms FROM mero_auth_login_attempts WHERE bucket = $1 ORDER BY at_ms',
          [bucket],
        );
        const failures = r.rows.filter((row) => row.failed);
        if (failures.length >= maxFailures) {
          // The bucket reopens when enough failures leave the window to make room for one.
          const oldest = Number(failures[failures.length - maxFailures]?.at_ms ?? nowMs);
          retry = Math.max(retry, Math.max(1, Math.ceil((oldest + windowMs - nowMs) / 1000)));
          locked = true;
        } else if (r.rows.length >= maxFailures) {
          retry = Math.max(retry, 1);
        }
      }
      // Budget taken only by attempts still in flight (on other instances): try again in a
      // second, and nothing is recorded — no wrong password has been seen.
      if (retry > 0 && !locked) return { admitted: false, retryAfterSeconds: retry };
      if (retry > 0) {
        // An attempt refused by a locked bucket counts as a failure, as in the in-process
        // limiter: it keeps the bucket locked. Each bucket keeps only its newest `maxFailures`.
        for (const { bucket, maxFailures } of sorted) {
          await client.query('INSERT INTO mero_auth_login_attempts (bucket, id, at_ms, failed) VALUES ($1, $2, $3, true)', [
            bucket,
            id,
            nowMs,
          ]);
          await client.query(
            `DELETE FROM mero_auth_login_attempts WHERE bucket = $1 AND failed AND id NOT IN (
               SELECT id FROM mero_auth_login_attempts WHERE bucket = $1 AND failed ORDER BY at_ms DESC LIMIT $2)`,
            [bucket, maxFailures],
          );
        }
        return { admitted: false, retryAfterSeconds: retry };
      }
      for (const { bucket } of sorted) {
        await client.query('INSERT INTO mero_auth_login_attempts (bucket, id, at_ms, failed) VALUES ($1, $2, $3, false)', [
          bucket,
          id,
          nowMs,
        ]);
      }
      return { admitted: true, id };
    });
  }

  /** The attempt failed: it stays in each bucket's window as a failure. */
  async fail(id: string, nowMs: number): Promise<void> {
    await this.store.runTransaction((client) =>
      client.query('UPDATE mero_auth_login_attempts SET failed = true, at_ms = $2 WHERE id = $1', [id, nowMs]),
    );
  }

  /** The attempt ended without a verdict on the password (busy, error): it no longer counts. */
  async abandon(id: string): Promise<void> {
    await this.store.runTransaction((client) => client.query('DELETE FROM mero_auth_login_attempts WHERE id = $1', [id]));
  }

  /** The attempt succeeded: it leaves every bucket, and `resetBucket` starts afresh. */
  async succeed(id: string, resetBucket: string): Promise<void> {
    await this.store.runTransaction((client) =>
      client.query('DELETE FROM mero_auth_login_attempts WHERE id = $1 OR bucket = $2', [id, bucketId(resetBucket)]),
    );
  }
}

// ---- helpers ---------------------------------------------------------------------------------

/**
 * The statement taking one advisory lock of a section: the name exclusive or shared, or a
 * member of it exclusive. Integers only, so it can go in a simple (multi-statement) query.
 */
function lockStatements(name: LockName, mode: 'exclusive' | 'shared' | 'member', member = ''): string {
  if (mode === 'member') return `SELECT pg_advisory_xact_lock(${MEMBER_NAMESPACES[name]}, ${memberLockId(member)})`;
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  return `SELECT ${fn}(${LOCK_NAMESPACE}, ${LOCK_IDS[name]})`;
}

/** A member's advisory lock id: the first 32 bits of its SHA-256, signed (an int4). */
export function memberLockId(member: string): number {
  return createHash('sha256').update(member, 'utf8').digest().readInt32BE(0);
}

function bucketId(bucket: string): string {
  return createHash('sha256').update(bucket, 'utf8').digest('base64url');
}

type Staged = Map<string, Uint8Array | undefined>;

/** Validates and reduces a batch to each key's final state (the last op on a key wins). */
function stage(ops: readonly BatchOp[]): Staged {
  return new Map(ops.map(checkOp));
}

async function applyStaged(tx: Tx, staged: Staged): Promise<void> {
  const putKeys: Buffer[] = [];
  const putValues: Buffer[] = [];
  const delKeys: Buffer[] = [];
  for (const [key, value] of staged) {
    tx.changed.add(key);
    if (value === undefined) delKeys.push(keyBytes(key));
    else {
      putKeys.push(keyBytes(key));
      putValues.push(Buffer.from(value));
    }
  }
  if (putKeys.length > 0) {
    await tx.client.query(
      `INSERT INTO mero_auth_kv (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[])
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [putKeys, putValues],
    );
  }
  if (delKeys.length > 0) {
    await tx.client.query('DELETE FROM mero_auth_kv WHERE key = ANY($1::bytea[])', [delKeys]);
  }
}

function keyBytes(key: string): Buffer {
  return Buffer.from(key, 'utf8');
}

/** The byte range of the keys starting with `prefix`; no `upper` when it is unbounded above. */
function prefixBounds(prefix: string): { lower: Buffer; upper: Buffer | undefined } {
  const lower = keyBytes(prefix);
  const bound = prefixUpperBound(new Uint8Array(lower)); // a copy: it edits what it is given
  return { lower, upper: bound === undefined ? undefined : Buffer.from(bound) };
}

/**
 * A failure of the database or of the way to it becomes StoreUnavailableError: a refused, reset
 * or dropped connection, a timeout, a server shutting down or in recovery. Everything else
 * passes through unchanged — an error the section's own code threw (an AuthError refusal), and
 * SQL errors of classes 22 (data), 23 (constraint) and 42 (syntax), which are bugs to see.
 */
function unavailable(e: unknown): unknown {
  return isDatabaseFailure(e) ? new StoreUnavailableError(`database unavailable: ${errorText(e)}`, { cause: e }) : e;
}

// SQLSTATE classes of a server that cannot serve now: connection exception, insufficient
// resources, operator intervention (shutdown, cancel, statement timeout), system error.
const UNAVAILABLE_SQLSTATE = /^(08|53|57|58|40P01)/;
// pg's own messages for a client-side connection failure (they carry no code).
const CONNECTION_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|Query read timeout|Connection timeout)/;

function isDatabaseFailure(e: unknown): boolean {
  if (e instanceof StoreUnavailableError || !(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (e instanceof pg.DatabaseError) return typeof code === 'string' && UNAVAILABLE_SQLSTATE.test(code);
  // Node socket errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE, ENOTFOUND, …); a refused
  // dual-stack connect is an AggregateError with the code and no syscall.
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  if (e instanceof AggregateError && e.errors.some(isDatabaseFailure)) return true;
  return CONNECTION_MESSAGES.test(e.message);
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'the configured database';
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
