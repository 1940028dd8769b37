/**
 * PostgresStore as several instances see it: two stores (two pools, two change-feed listeners)
 * on one database stand for two mero-auth processes. Every test has a database of its own; the
 * "database down" block has a cluster of its own, since it stops it.
 *
 * No fixed sleep is an assertion here: ordering is shown with explicit handshakes (and pg_locks
 * for "B is waiting on the lock"), asynchronous deliveries are awaited with a deadline.
 */
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { StorageOpenError } from '../../src/storage/level.js';
import { CachingStore } from '../../src/storage/cache.js';
import {
  POSTGRES_SCHEMA_VERSION,
  PostgresStore,
  SharedLoginAttempts,
  StoreUnavailableError,
  memberLockId,
  type PostgresStoreOptions,
} from '../../src/storage/postgres.js';
import { decodeJson, encodeJson, type BatchOp } from '../../src/storage/store.js';
import {
  createDatabase,
  describeWithPostgres,
  pgOptions,
  sharedPgUrl,
  startCluster,
  type PgCluster,
  NEVER_MS,
  until,
  within,
} from '../helpers/postgres.js';
import { Child } from './child.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
const LOCK_NAMESPACE = 0x4d455241;
const LOCK_IDS = { account: 1, session: 2, secrets: 3 } as const;
/** Per-session locks of `shared('session', fn, sid)`: ("MER2", 32-bit hash of the sid). */
const SESSION_MEMBER_NAMESPACE = 0x4d455232;

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves with the batch of keys (or 'all') in which `store`'s feed first reports `key`. */
function nextDelivery(store: PostgresStore, key: string): Promise<readonly string[] | 'all'> {
  const got = deferred<readonly string[] | 'all'>();
  store.subscribe((keys) => {
    if (keys === 'all' || keys.includes(key)) got.resolve(keys);
  });
  return got.promise;
}

/** Every delivery `store`'s feed makes from now on. */
function recordDeliveries(store: PostgresStore): Array<readonly string[] | 'all'> {
  const seen: Array<readonly string[] | 'all'> = [];
  store.subscribe((keys) => seen.push(keys === 'all' ? 'all' : [...keys]));
  return seen;
}

/** The store's LISTEN connection (private): tests silence or kill it to lose notifications. */
function notifierOf(store: PostgresStore): pg.Client | undefined {
  return (store as unknown as { notifier?: pg.Client }).notifier;
}

/** Stops `store` from hearing NOTIFY, so only poll() (timer or explicit) reads the feed. */
async function silence(store: PostgresStore): Promise<void> {
  const n = notifierOf(store);
  if (n === undefined) throw new Error('the store has no notifier connection');
  await n.query('UNLISTEN *');
}

describeWithPostgres('PostgresStore across instances', () => {
  const opened: PostgresStore[] = [];
  const raws: pg.Client[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
    await Promise.all(raws.splice(0).map((c) => c.end().catch(() => undefined)));
  });

  async function open(url: string, overrides: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
    const s = await PostgresStore.open(pgOptions(url, overrides));
    opened.push(s);
    return s;
  }
  /** Two instances on a fresh database, plus a plain connection to look at it. */
  async function pair(
    prefix: string,
    a: Partial<PostgresStoreOptions> = {},
    b: Partial<PostgresStoreOptions> = {},
  ): Promise<{ url: string; a: PostgresStore; b: PostgresStore; raw: pg.Client }> {
    const url = await createDatabase(sharedPgUrl(), prefix);
    const [sa, sb] = [await open(url, a), await open(url, b)];
    return { url, a: sa, b: sb, raw: await rawClient(url) };
  }
  async function rawClient(url: string): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    raws.push(c);
    return c;
  }
  async function feedSeq(raw: pg.Client): Promise<number> {
    return Number((await raw.query<{ seq: string }>('SELECT seq FROM mero_auth_feed WHERE id = 1')).rows[0]?.seq);
  }
  /** Sessions of this database waiting (not granted) for the advisory lock of `name`. */
  async function waitingFor(raw: pg.Client, name: keyof typeof LOCK_IDS): Promise<number> {
    const r = await raw.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_locks
        WHERE locktype = 'advisory' AND NOT granted AND classid = $1::bigint::oid AND objid = $2::bigint::oid
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [LOCK_NAMESPACE, LOCK_IDS[name]],
    );
    return Number(r.rows[0]?.n);
  }

  describe('exclusive sections', () => {
    it('two instances never overlap in sections of the same name; another name does not wait', async () => {
      const { a, b, raw } = await pair('excl');
      const events: string[] = [];
      const aIn = deferred();
      const releaseA = deferred();
      const sectionA = a.exclusive('session', async () => {
        events.push('A enter');
        aIn.resolve();
        await releaseA.promise;
        events.push('A exit');
      });
      let sectionB: Promise<void> | undefined;
      try {
        await within(aIn.promise, 5_000, 'A to enter its section');

        // Another lock name is independent: B gets 'account' while A holds 'session'.
        await within(
          b.exclusive('account', async () => {
            events.push('B account');
          }),
          5_000,
          "B's account section while A holds session",
        );

        sectionB = b.exclusive('session', async () => {
          events.push('B enter');
          events.push('B exit');
        });
        // The handshake: the database shows B blocked on the session lock A holds.
        await until(async () => (await waitingFor(raw, 'session')) === 1, 5_000, 'B to wait for the session lock');
        expect(events).toEqual(['A enter', 'B account']);
      } finally {
        releaseA.resolve(); // also when a check failed: never leave A's connection checked out
      }
      await within(Promise.all([sectionA, sectionB]), 5_000, 'both sections to finish');
      expect(events).toEqual(['A enter', 'B account', 'A exit', 'B enter', 'B exit']);
    });

    it('read-modify-write in sections from both instances loses no update and never overlaps', async () => {
      const { a, b } = await pair('excl_rmw');
      await a.put('counter', encodeJson(0));
      let inside = 0;
      let maxInside = 0;
      const bump = (s: PostgresStore) =>
        s.exclusive('account', async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          const n = decodeJson<number>((await s.get('counter')) as Uint8Array);
          await new Promise((r) => setImmediate(r)); // give the other instance every chance to interleave
          await s.put('counter', encodeJson(n + 1));
          inside--;
        });
      await within(Promise.all(Array.from({ length: 20 }, (_, i) => bump(i % 2 === 0 ? a : b))), 20_000, '20 sections');
      expect(maxInside).toBe(1);
      expect(decodeJson<number>((await b.get('counter')) as Uint8Array)).toBe(20);
    });

    it('sections nest (account, then session) on both instances without deadlock, and the inner writes commit with the outer', async () => {
      const { a, b } = await pair('excl_nest');
      const nested = (s: PostgresStore, tag: string) =>
        s.exclusive('account', async () => {
          await s.put(`acct:${tag}`, bytes(tag));
          await s.exclusive('session', async () => {
            await s.put(`sess:${tag}`, bytes(tag));
            // The same name again inside: already held, runs at once.
            await s.exclusive('session', () => s.put(`sess2:${tag}`, bytes(tag)));
          });
        });
      const sessionOnly = (s: PostgresStore, tag: string) => s.exclusive('session', () => s.put(`solo:${tag}`, bytes(tag)));
      const all: Array<Promise<unknown>> = [];
      for (let i = 0; i < 6; i++) {
        all.push(nested(a, `a${i}`), nested(b, `b${i}`), sessionOnly(a, `a${i}`), sessionOnly(b, `b${i}`));
      }
      await within(Promise.all(all), 20_000, '24 nested and plain sections on two instances');
      for (const prefix of ['acct:', 'sess:', 'sess2:', 'solo:']) {
        expect((await b.scan(prefix)).map(([k]) => k).sort()).toEqual(
          ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'b0', 'b1', 'b2', 'b3', 'b4', 'b5'].map((t) => prefix + t),
        );
      }
    });

    it('a throw rolls back every write of the section, nested ones included, and publishes nothing', async () => {
      const { a, b, raw } = await pair('excl_rollback');
      await a.batch([
        { type: 'put', key: 'keep', value: bytes('v0') },
        { type: 'put', key: 'gone', value: bytes('v0') },
      ]);
      await b.poll(); // B has heard of the setup batch: whatever it hears from now on is new
      const seqBefore = await feedSeq(raw);
      const bSeen = recordDeliveries(b);

      const outcome = a.exclusive('account', async () => {
        await a.put('new', bytes('v1'));
        await a.batch([
          { type: 'put', key: 'keep', value: bytes('v1') },
          { type: 'del', key: 'gone' },
        ]);
        expect(await a.putIfAbsent('pia', bytes('v1'), [{ type: 'put', key: 'pia-also', value: bytes('v1') }])).toBe(true);
        await a.exclusive('session', () => a.put('nested', bytes('v1')));
        // Inside, the section sees its own writes.
        expect(text(await a.get('keep'))).toBe('v1');
        expect(await a.has('gone')).toBe(false);
        throw new Error('boom');
      });
      await expect(outcome).rejects.toThrow('boom');

      for (const s of [a, b]) {
        expect(text(await s.get('keep'))).toBe('v0');
        expect(text(await s.get('gone'))).toBe('v0');
        for (const k of ['new', 'pia', 'pia-also', 'nested']) expect(await s.get(k)).toBeUndefined();
      }
      expect(await feedSeq(raw)).toBe(seqBefore);
      await b.poll();
      expect(bSeen).toEqual([]);

      // The connection went back to the pool clean: the next section works and commits.
      await a.exclusive('account', () => a.put('after', bytes('ok')));
      expect(text(await b.get('after'))).toBe('ok');
      // putIfAbsent of the rolled-back key wins now.
      expect(await b.putIfAbsent('pia', bytes('v2'))).toBe(true);
    });

    // Regression: the section's own refusal used to come back as a StoreUnavailableError (at the
    // HTTP level a 503 instead of a 404, see test/http/postgres.test.ts). Memory and level pass
    // the error through unchanged; so must postgres.
    it('a throw inside a section rejects with that very error, not a StoreUnavailableError', async () => {
      const { a } = await pair('excl_error');
      const boom = new Error('boom');
      const err = await a.exclusive('account', () => Promise.reject(boom)).catch((e: unknown) => e);
      expect(err).not.toBeInstanceOf(StoreUnavailableError);
      expect(err).toBe(boom);
    });

    it("a section's writes are invisible to the other instance (and to the pool) until it commits", async () => {
      const { a, b } = await pair('excl_visibility');
      const bSeen = recordDeliveries(b);
      const written = deferred();
      const commit = deferred();
      const section = a.exclusive('session', async () => {
        await a.put('k', bytes('v1'));
        await a.batch([{ type: 'put', key: 'k2', value: bytes('v2') }]);
        expect(text(await a.get('k'))).toBe('v1'); // its own transaction sees them
        written.resolve();
        await commit.promise;
      });
      await within(written.promise, 5_000, 'the section to write');

      expect(await b.get('k')).toBeUndefined();
      expect(await b.has('k2')).toBe(false);
      expect(await b.scan('k')).toEqual([]);
      expect(await a.get('k')).toBeUndefined(); // a read outside the section is not in its transaction
      await b.poll();
      expect(bSeen).toEqual([]); // nothing published before commit

      const delivered = nextDelivery(b, 'k');
      commit.resolve();
      await section;
      expect(text(await b.get('k'))).toBe('v1');
      expect(text(await b.get('k2'))).toBe('v2');
      expect([...((await within(delivered, 5_000, "B's feed to report k")) as string[])].sort()).toEqual(['k', 'k2']);
    });
  });

  describe('shared and per-session sections (issue 11)', () => {
    /** Sessions of this database waiting (not granted) for a member lock of `session`. */
    async function waitingForMember(raw: pg.Client): Promise<number> {
      const r = await raw.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_locks
          WHERE locktype = 'advisory' AND NOT granted AND classid = $1::bigint::oid
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        [SESSION_MEMBER_NAMESPACE],
      );
      return Number(r.rows[0]?.n);
    }

    it('sections of different sessions overlap across instances; the same session serialises', async () => {
      const { a, b, raw } = await pair('member');
      const events: string[] = [];
      const aIn = deferred();
      const releaseA = deferred();
      const sectionA = a.shared(
        'session',
        async () => {
          events.push('A enter');
          await a.put('s1', bytes('a'));
          aIn.resolve();
          await releaseA.promise;
          events.push('A exit');
        },
        'sid-1',
      );
      let sameSid: Promise<void> | undefined;
      try {
        await within(aIn.promise, 5_000, 'A to enter its section');
        // Another session on the other instance: runs to completion while A holds sid-1.
        await within(
          b.shared('session', async () => void events.push('B sid-2'), 'sid-2'),
          5_000,
          "B's section of sid-2 while A holds sid-1",
        );
        sameSid = b.shared(
          'session',
          async () => {
            events.push('B sid-1');
            expect(text(await b.get('s1'))).toBe('a'); // A committed before B got in
          },
          'sid-1',
        );
        await until(async () => (await waitingForMember(raw)) === 1, 5_000, 'B to wait for the lock of sid-1');
        expect(events).toEqual(['A enter', 'B sid-2']);
      } finally {
        releaseA.resolve();
      }
      await within(Promise.all([sectionA, sameSid]), 5_000, 'both sections to finish');
      expect(events).toEqual(['A enter', 'B sid-2', 'A exit', 'B sid-1']);
    });

    it('the exclusive session lock waits for per-session sections on the other instance, and they for it', async () => {
      const { a, b, raw } = await pair('member_excl');
      const events: string[] = [];
      const aIn = deferred();
      const releaseA = deferred();
      const sectionA = a.shared(
        'session',
        async () => {
          events.push('A sid-1 enter');
          aIn.resolve();
          await releaseA.promise;
          events.push('A sid-1 exit');
        },
        'sid-1',
      );
      let revokeAll: Promise<void> | undefined;
      try {
        await within(aIn.promise, 5_000, 'A to enter');
        revokeAll = b.exclusive('session', async () => void events.push('B exclusive'));
        await until(async () => (await waitingFor(raw, 'session')) === 1, 5_000, 'B to wait for the session lock');
        expect(events).toEqual(['A sid-1 enter']);
      } finally {
        releaseA.resolve();
      }
      await within(Promise.all([sectionA, revokeAll]), 5_000, 'A and B');
      expect(events).toEqual(['A sid-1 enter', 'A sid-1 exit', 'B exclusive']);

      // The other way round: B holds it exclusively, A's section of a session (and a plain shared
      // section, as a login takes) wait for it.
      const bIn = deferred();
      const releaseB = deferred();
      const exclusiveB = b.exclusive('session', async () => {
        events.push('B2 enter');
        bIn.resolve();
        await releaseB.promise;
        events.push('B2 exit');
      });
      let waiting: Promise<unknown> | undefined;
      try {
        await within(bIn.promise, 5_000, 'B to enter');
        waiting = Promise.all([
          a.shared('session', async () => void events.push('A sid-2'), 'sid-2'),
          a.shared('session', async () => void events.push('A shared')),
        ]);
        await until(async () => (await waitingFor(raw, 'session')) >= 1, 5_000, 'A to wait for the session lock');
        expect(events.slice(3)).toEqual(['B2 enter']);
      } finally {
        releaseB.resolve();
      }
      await within(Promise.all([exclusiveB, waiting]), 5_000, 'B2 and A');
      expect(events.slice(3, 5)).toEqual(['B2 enter', 'B2 exit']);
      expect(events.slice(5).sort()).toEqual(['A shared', 'A sid-2']);
    });

    it('read-modify-writes of one session from both instances, mixed with exclusive ones, lose no update', async () => {
      const { a, b } = await pair('member_rmw');
      await a.put('session:x', encodeJson(0));
      let inside = 0;
      let maxInside = 0;
      const bump = (s: PostgresStore, exclusive: boolean) => {
        const body = async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          const n = decodeJson<number>((await s.get('session:x')) as Uint8Array);
          await new Promise((r) => setImmediate(r)); // give the other instance every chance to interleave
          await s.put('session:x', encodeJson(n + 1));
          inside--;
        };
        return exclusive ? s.exclusive('session', body) : s.shared('session', body, 'x');
      };
      await within(
        Promise.all(Array.from({ length: 24 }, (_, i) => bump(i % 2 === 0 ? a : b, i % 6 === 0))),
        20_000,
        '24 sections',
      );
      expect(maxInside).toBe(1);
      expect(decodeJson<number>((await b.get('session:x')) as Uint8Array)).toBe(24);
    });

    it('a per-session section nested in an exclusive one runs at once, and a throw rolls it back', async () => {
      const { a, b } = await pair('member_nest');
      await a.exclusive('session', () => a.shared('session', () => a.put('n1', bytes('1')), 'sid-1'));
      expect(text(await b.get('n1'))).toBe('1');
      const boom = new Error('boom');
      const err = await a
        .shared(
          'session',
          async () => {
            await a.put('n2', bytes('2'));
            throw boom;
          },
          'sid-1',
        )
        .catch((e: unknown) => e);
      expect(err).toBe(boom);
      expect(await b.get('n2')).toBeUndefined();
    });

    it('member lock ids are 32-bit and stable', () => {
      const id = memberLockId('0b3c2c8e-2a8a-4b0e-9a53-6f1f1f4c1c11');
      expect(Number.isInteger(id)).toBe(true);
      expect(id).toBeGreaterThanOrEqual(-(2 ** 31));
      expect(id).toBeLessThan(2 ** 31);
      expect(memberLockId('0b3c2c8e-2a8a-4b0e-9a53-6f1f1f4c1c11')).toBe(id);
      expect(memberLockId('another')).not.toBe(id);
    });
  });

  describe('putIfAbsent', () => {
    it('of 20 concurrent callers on two instances exactly one wins, and only its alsoOps land', async () => {
      const { a, b } = await pair('pia');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b).putIfAbsent('claim', bytes(`caller-${i}`), [
            { type: 'put', key: `also:${String(i).padStart(2, '0')}`, value: bytes(`caller-${i}`) },
            { type: 'put', key: 'also-shared', value: bytes(`caller-${i}`) },
          ]),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      const also = await a.scan('also');
      expect(also.map(([k, v]) => [k, text(v)])).toEqual([
        ['also-shared', `caller-${winner}`],
        [`also:${String(winner).padStart(2, '0')}`, `caller-${winner}`],
      ]);
      expect(text(await b.get('claim'))).toBe(`caller-${winner}`);
      // Present now: every later caller on either instance loses and writes nothing.
      expect(await a.putIfAbsent('claim', bytes('late'), [{ type: 'put', key: 'also:late', value: bytes('x') }])).toBe(false);
      expect(await b.putIfAbsent('claim', bytes('late'))).toBe(false);
      expect(await a.get('also:late')).toBeUndefined();
    });
  });

  describe('change feed', () => {
    it("a write on A reaches B's subscriber; A is not told about its own writes", async () => {
      const { a, b } = await pair('feed');
      const aSeen = recordDeliveries(a);
      const toB = nextDelivery(b, 'from-a');
      await a.batch([
        { type: 'put', key: 'from-a', value: bytes('1') },
        { type: 'put', key: 'from-a-2', value: bytes('2') },
      ]);
      expect([...((await within(toB, 5_000, 'B to hear of from-a')) as string[])].sort()).toEqual(['from-a', 'from-a-2']);
      await a.poll(); // A has read the feed past its own write
      expect(aSeen).toEqual([]);

      const toA = nextDelivery(a, 'from-b');
      await b.del('from-a');
      await b.put('from-b', bytes('3'));
      await within(toA, 5_000, 'A to hear of from-b');
      await a.poll();
      expect(aSeen.flat()).toEqual(['from-a', 'from-b']);
    });

    it('consumed refresh markers are not in the feed', async () => {
      const { a, b } = await pair('feed_unfed');
      const bSeen = recordDeliveries(b);
      const marker = nextDelivery(b, 'after');
      await a.putIfAbsent('system:refresh:consumed:jti-1', bytes('m'), [{ type: 'put', key: 'session:x', value: bytes('s') }]);
      await a.put('system:refresh:consumed:jti-2', bytes('m'));
      await a.put('after', bytes('1'));
      await within(marker, 5_000, 'B to hear of after');
      await b.poll();
      expect(bSeen.flat()).toEqual(['session:x', 'after']);
    });

    it('a CachingStore over B serves the new value once the feed delivered A’s change, never the cached one', async () => {
      const { a, b } = await pair('feed_cache');
      const cache = new CachingStore(b, ['rec:']);
      await a.put('rec:k', encodeJson({ v: 0 }));
      await b.poll(); // the first write's own delivery must not evict what the loop caches
      for (let v = 1; v <= 10; v++) {
        expect(await cache.getJson('rec:k')).toEqual({ v: v - 1 });
        expect(cache.peekJson('rec:k')).toEqual({ v: v - 1 }); // cached
        const arrived = nextDelivery(b, 'rec:k');
        await a.put('rec:k', encodeJson({ v }));
        await within(arrived, 5_000, `B to hear of change ${v}`);
        expect(cache.peekJson('rec:k')).toBeUndefined(); // evicted
        expect(await cache.getJson('rec:k')).toEqual({ v });
        expect(decodeJson((await cache.get('rec:k')) as Uint8Array)).toEqual({ v });
      }
      const deleted = nextDelivery(b, 'rec:k');
      await a.del('rec:k');
      await within(deleted, 5_000, 'B to hear of the delete');
      expect(await cache.getJson('rec:k')).toBeUndefined();
      expect(await cache.has('rec:k')).toBe(false);
    });

    it('coherent() turns false past coherenceBoundMs without a feed read, and the cache then answers nothing from memory', async () => {
      const url = await createDatabase(sharedPgUrl(), 'feed_coherence');
      let now = 0;
      const b = await open(url, { nowMs: () => now, pollIntervalMs: NEVER_MS, coherenceBoundMs: 1_000 });
      await silence(b); // no NOTIFY-triggered read may move lastOk behind the test's back
      const raw = await rawClient(url);
      const cache = new CachingStore(b, ['rec:']);
      await cache.put('rec:x', encodeJson({ v: 1 }));
      expect(await cache.getJson('rec:x')).toEqual({ v: 1 });
      expect(cache.peekJson('rec:x')).toEqual({ v: 1 });

      now = 1_000; // exactly at the bound: still trusted
      expect(b.coherent()).toBe(true);
      expect(cache.peekJson('rec:x')).toEqual({ v: 1 });
      now = 1_001;
      expect(b.coherent()).toBe(false);
      expect(cache.feed?.coherent()).toBe(false);
      expect(cache.peekJson('rec:x')).toBeUndefined();

      // A write that never went through the feed: while incoherent every read goes to the database.
      await raw.query('UPDATE mero_auth_kv SET value = $2 WHERE key = $1', [
        Buffer.from('rec:x'),
        Buffer.from(JSON.stringify({ v: 2 })),
      ]);
      expect(await cache.getJson('rec:x')).toEqual({ v: 2 });
      expect(decodeJson((await cache.get('rec:x')) as Uint8Array)).toEqual({ v: 2 });
      expect(cache.peekJson('rec:x')).toBeUndefined();

      // One successful feed read makes it coherent again, from the time the read started.
      await b.poll();
      expect(b.coherent()).toBe(true);
      // ...and memory answers again (the raw write bypassed the feed, so memory still has v1:
      // the bypass above was the only reason the new value was seen).
      expect(cache.peekJson('rec:x')).toEqual({ v: 1 });
      now = 2_001;
      expect(b.coherent()).toBe(true);
      now = 2_002;
      expect(b.coherent()).toBe(false);
    });

    it('reports all when changes were pruned past it, and the cache drops everything', async () => {
      const { a, b, raw } = await pair('feed_pruned', {}, { pollIntervalMs: NEVER_MS });
      await silence(b);
      const cache = new CachingStore(b, ['rec:']);
      await a.put('rec:untouched', bytes('u'));
      await b.poll();
      expect(text(await cache.get('rec:untouched'))).toBe('u');
      await a.put('rec:1', bytes('1'));
      await a.put('rec:2', bytes('2'));
      // The row B needs next is gone (pruned while B was away).
      await raw.query('DELETE FROM mero_auth_changes WHERE seq = (SELECT min(seq) FROM mero_auth_changes WHERE key = $1)', [
        Buffer.from('rec:1'),
      ]);
      // Change the untouched record behind the feed's back: only a full drop shows it.
      await raw.query('UPDATE mero_auth_kv SET value = $2 WHERE key = $1', [Buffer.from('rec:untouched'), Buffer.from('u2')]);
      const seen = recordDeliveries(b);
      await b.poll();
      expect(seen).toEqual(['all']);
      expect(text(await cache.get('rec:untouched'))).toBe('u2');
      // Caught up: the next change is reported by key again.
      const next = nextDelivery(b, 'rec:3');
      await a.put('rec:3', bytes('3'));
      await b.poll();
      expect(await within(next, 1_000, 'rec:3')).toEqual(['rec:3']);
    });

    it('reports all when one read of the feed is a full batch (a change of more keys than it holds)', async () => {
      // Regression: 10,050 keys in one commit were delivered as their first 10,000, and the
      // cache kept the other 50 as they were.
      const { a, b } = await pair('feed_big', {}, { pollIntervalMs: NEVER_MS });
      await silence(b);
      const cache = new CachingStore(b, ['rec:']);
      await a.put('rec:10049', bytes('live'));
      await b.poll();
      expect(text(await cache.get('rec:10049'))).toBe('live');
      const ops = Array.from({ length: 10_050 }, (_, i) => ({
        type: 'put' as const,
        key: `rec:${String(i).padStart(5, '0')}`,
        value: bytes('x'),
      }));
      ops.push({ type: 'put', key: 'rec:10049', value: bytes('revoked') });
      await a.batch(ops);
      const seen = recordDeliveries(b);
      await b.poll();
      expect(seen).toEqual(['all']);
      expect(text(await cache.get('rec:10049'))).toBe('revoked');
    });
  });

  describe('lost notifications', () => {
    it('with NOTIFY silenced, the poll timer still delivers the change', async () => {
      const { a, b } = await pair('lost_timer', {}, { pollIntervalMs: 50 });
      await silence(b);
      const arrived = nextDelivery(b, 'k');
      await a.put('k', bytes('1'));
      expect(await within(arrived, 5_000, 'the poll timer to deliver k')).toEqual(['k']);
    });

    it('with NOTIFY silenced and no timer, poll() alone picks the change up', async () => {
      const { a, b } = await pair('lost_poll', {}, { pollIntervalMs: NEVER_MS });
      await silence(b);
      const seen = recordDeliveries(b);
      await a.put('k1', bytes('1'));
      await a.batch([
        { type: 'put', key: 'k2', value: bytes('2') },
        { type: 'del', key: 'k1' },
      ]);
      await b.poll();
      expect(seen.map((keys) => (keys === 'all' ? keys : [...keys].sort()))).toEqual([['k1', 'k1', 'k2']]);
      await b.poll(); // nothing new: nothing reported twice
      expect(seen).toHaveLength(1);
    });

    it('a killed LISTEN connection comes back and catches up with what was committed meanwhile', async () => {
      const { a, b, raw } = await pair('lost_reconnect', {}, { pollIntervalMs: NEVER_MS });
      const before = notifierOf(b);
      const pid = (before as unknown as { processID?: number } | undefined)?.processID;
      expect(pid).toBeTypeOf('number');
      const arrived = nextDelivery(b, 'while-deaf');
      await raw.query('SELECT pg_terminate_backend($1)', [pid]);
      await a.put('while-deaf', bytes('1'));
      // No timer: only the reconnect's catch-up read (or the new LISTEN) can deliver it.
      await within(arrived, 10_000, 'B to catch up after its LISTEN connection was killed');
      await until(() => notifierOf(b) !== undefined && notifierOf(b) !== before, 10_000, 'a new LISTEN connection');
      // Notifications flow again on the new connection.
      const again = nextDelivery(b, 'after-reconnect');
      await a.put('after-reconnect', bytes('2'));
      expect(await within(again, 5_000, 'a NOTIFY on the new connection')).toEqual(['after-reconnect']);
    });
  });

  describe('connection dropped under an open section', () => {
    // Regression: a client taken with pool.connect() had no 'error' listener while checked out
    // (pg-pool removes its idle one on checkout), so the server ending the connection mid-section
    // (restart, failover, pg_terminate_backend) was an uncaught 'error' that ended the process.
    it('the section rejects with StoreUnavailableError and the process lives on', async () => {
      const { url, raw } = await pair('drop_in_section');
      const module = join(dirname(inject('meroAuthCli')), 'storage', 'postgres.js');
      const child = new Child('pg-section-drop.mjs', [module, url]);
      try {
        await within(
          child.waitForLine((l) => l === 'IN-SECTION'),
          10_000,
          'the child to enter its section',
        );
        const killed = await raw.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'mero-auth' AND state = 'idle in transaction'`,
        );
        expect(killed.rowCount).toBe(1);
        child.proc.stdin.write('go\n');
        expect(
          await within(
            child.waitForLine((l) => l.startsWith('SECTION-')),
            10_000,
            'the section to end',
          ),
        ).toBe('SECTION-REJECTED StoreUnavailableError');
        await within(
          child.waitForLine((l) => l === 'SURVIVED'),
          10_000,
          'the store to answer again',
        );
        expect(await raw.query("SELECT 1 FROM mero_auth_kv WHERE key = 'in-section'::bytea")).toMatchObject({ rowCount: 0 });
      } finally {
        await child.kill();
      }
    });
  });

  describe('migration', () => {
    it('two instances opening an empty database at once both succeed and migrate once', async () => {
      const url = await createDatabase(sharedPgUrl(), 'migrate');
      const [s1, s2] = await Promise.all([PostgresStore.open(pgOptions(url)), PostgresStore.open(pgOptions(url))]);
      opened.push(s1, s2);
      const raw = await rawClient(url);
      const v = await raw.query<{ version: number }>('SELECT version FROM mero_auth_schema');
      expect(v.rows).toEqual([{ version: 1 }]);
      expect(POSTGRES_SCHEMA_VERSION).toBe(1);
      expect((await raw.query('SELECT seq FROM mero_auth_feed')).rows).toHaveLength(1);
      await s1.put('k', bytes('1'));
      expect(text(await s2.get('k'))).toBe('1');
      // A third open later finds it migrated and changes nothing.
      opened.push(await PostgresStore.open(pgOptions(url)));
      expect((await raw.query('SELECT version FROM mero_auth_schema')).rows).toEqual([{ version: 1 }]);
    });

    it('refuses a database whose schema is newer than this build, naming both versions and hiding the password', async () => {
      const url = await createDatabase(sharedPgUrl(), 'migrate_newer');
      const raw = await rawClient(url);
      await raw.query('CREATE TABLE mero_auth_schema (version int NOT NULL)');
      await raw.query('INSERT INTO mero_auth_schema VALUES (99)');
      // Trust authentication ignores the password, so the URL may carry one: it must not leak.
      const withPassword = url.replace('postgres@', 'postgres:s3cret-pw@');
      const err = await PostgresStore.open(pgOptions(withPassword)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageOpenError);
      const message = (err as Error).message;
      expect(message).toContain('the database schema is version 99, newer than this build knows (1)');
      expect(message).toContain('cannot be opened');
      expect(message).not.toContain('s3cret-pw');
      expect(message).toContain(':***@');
      // Nothing was migrated or touched.
      expect((await raw.query('SELECT version FROM mero_auth_schema')).rows).toEqual([{ version: 99 }]);
      expect((await raw.query("SELECT to_regclass('mero_auth_kv') AS t")).rows).toEqual([{ t: null }]);
    });
  });

  describe('SharedLoginAttempts', () => {
    const WINDOW = 60_000;
    // Bucket names carry client input: NUL, non-ASCII and astral characters are fine and distinct.
    const ID = 'i:user_password:\u0000\u00fc\u{1F600}';
    const ID_PREFIX = 'i:user_password:\u0000';
    const ADDR = 'a:203.0.113.7';

    async function twoLimiters(prefix: string): Promise<[SharedLoginAttempts, SharedLoginAttempts, pg.Client]> {
      const { a, b, raw } = await pair(prefix);
      return [a.loginAttempts(), b.loginAttempts(), raw];
    }
    const admitted = async (p: ReturnType<SharedLoginAttempts['begin']>): Promise<string> => {
      const r = await p;
      if (!r.admitted) throw new Error(`expected admission, got retry after ${r.retryAfterSeconds}`);
      return r.id;
    };

    it('failures on either instance fill one budget; the retry time counts from the oldest failure in the window', async () => {
      const [la, lb] = await twoLimiters('attempts_budget');
      const limits = [{ bucket: ID, maxFailures: 3 }];
      await la.fail(await admitted(la.begin(limits, 1_000, WINDOW)), 1_000);
      await lb.fail(await admitted(lb.begin(limits, 2_000, WINDOW)), 2_000);
      await la.fail(await admitted(la.begin(limits, 10_000, WINDOW)), 10_000);

      // Three failures (two instances): full. The oldest (t=1 s) leaves the window at 61 s.
      expect(await lb.begin(limits, 20_000, WINDOW)).toEqual({ admitted: false, retryAfterSeconds: 41 });
      // That refusal counted as a failure too (t=20 s), keeping the newest three: 2 s, 10 s, 20 s.
      expect(await la.begin(limits, 61_500, WINDOW)).toEqual({ admitted: false, retryAfterSeconds: 1 });
      // ... and 61.5 s: newest three are now 10 s, 20 s, 61.5 s; at 80.001 s only 61.5 s is left.
      const later = await la.begin(limits, 80_001, WINDOW);
      expect(later.admitted).toBe(true);

      // A bucket whose name differs only after the NUL is another bucket.
      expect((await lb.begin([{ bucket: ID_PREFIX, maxFailures: 3 }], 20_000, WINDOW)).admitted).toBe(true);
      // maxFailures 0 means no limit for that bucket.
      expect((await lb.begin([{ bucket: ID, maxFailures: 0 }], 20_000, WINDOW)).admitted).toBe(true);
    });

    it('attempts in flight on another instance count against the budget until they end', async () => {
      const [la, lb] = await twoLimiters('attempts_inflight');
      const limits = [{ bucket: ID, maxFailures: 2 }];
      await admitted(la.begin(limits, 1_000, WINDOW));
      await admitted(lb.begin(limits, 1_000, WINDOW));
      // Two pending of two, one on each instance: refused for a second.
      expect(await la.begin(limits, 1_500, WINDOW)).toEqual({ admitted: false, retryAfterSeconds: 1 });
      // That refusal saw no wrong password, so it records none: once both attempts end without
      // a verdict, the whole budget is there again.
      expect(await lb.begin(limits, 1_600, WINDOW)).toEqual({ admitted: false, retryAfterSeconds: 1 });

      // Another bucket: an attempt that ends without a verdict gives its slot back at once.
      const other = [{ bucket: ID_PREFIX, maxFailures: 2 }];
      const p1 = await admitted(la.begin(other, 1_000, WINDOW));
      await admitted(lb.begin(other, 1_000, WINDOW));
      await la.abandon(p1);
      expect((await lb.begin(other, 1_000, WINDOW)).admitted).toBe(true);
    });

    it('a refusal for attempts in flight records no failure', async () => {
      const [la, lb] = await twoLimiters('attempts_inflight_nofail');
      const limits = [{ bucket: ID, maxFailures: 2 }];
      const p1 = await admitted(la.begin(limits, 1_000, WINDOW));
      const p2 = await admitted(lb.begin(limits, 1_000, WINDOW));
      for (let i = 0; i < 5; i++) {
        expect(await la.begin(limits, 1_100 + i, WINDOW)).toEqual({ admitted: false, retryAfterSeconds: 1 });
      }
      await la.abandon(p1);
      await lb.abandon(p2);
      // Both slots are back; had the five refusals counted, the bucket would be locked for the window.
      await admitted(la.begin(limits, 1_200, WINDOW));
      await admitted(lb.begin(limits, 1_200, WINDOW));
    });

    it('abandon frees the slot; a pending attempt of a dead instance expires after PENDING_TTL_MS', async () => {
      const [la, lb] = await twoLimiters('attempts_abandon');
      const limits = [{ bucket: ID, maxFailures: 1 }];
      const p = await admitted(la.begin(limits, 1_000, WINDOW));
      await la.abandon(p);
      await admitted(lb.begin(limits, 1_000, WINDOW)); // abandoned: not a failure
      // That attempt's instance "dies" before settling it: its pending row expires after the TTL.
      const ttl = SharedLoginAttempts.PENDING_TTL_MS;
      expect((await la.begin(limits, 1_000 + ttl + 1, WINDOW)).admitted).toBe(true);

      // Up to the TTL itself it still counts (another bucket, so no probe touches the first).
      const other = [{ bucket: ID_PREFIX, maxFailures: 1 }];
      await admitted(la.begin(other, 1_000, WINDOW));
      expect(await lb.begin(other, 1_000 + ttl, WINDOW)).toEqual({ admitted: false, retryAfterSeconds: 1 });
    });

    it('success clears the identity bucket for every instance, not the address bucket', async () => {
      const [la, lb] = await twoLimiters('attempts_succeed');
      const both = [
        { bucket: ID, maxFailures: 3 },
        { bucket: ADDR, maxFailures: 3 },
      ];
      await la.fail(await admitted(la.begin(both, 1_000, WINDOW)), 1_000);
      await lb.fail(await admitted(lb.begin(both, 2_000, WINDOW)), 2_000);
      const ok = await admitted(la.begin(both, 3_000, WINDOW));
      await la.succeed(ok, ID);
      // Identity: empty again (three more failures fit); address: still two failures.
      await lb.fail(await admitted(lb.begin(both, 4_000, WINDOW)), 4_000); // address now full
      expect(await la.begin([{ bucket: ID, maxFailures: 3 }], 5_000, WINDOW)).toMatchObject({ admitted: true });
      expect(await lb.begin([{ bucket: ADDR, maxFailures: 3 }], 5_000, WINDOW)).toEqual({
        admitted: false,
        retryAfterSeconds: 56, // oldest address failure (1 s) + 60 s − 5 s
      });
    });

    it('a failure is stamped when it is reported, not when the attempt began', async () => {
      const [la, lb] = await twoLimiters('attempts_stamp');
      const limits = [{ bucket: ID, maxFailures: 1 }];
      const p = await admitted(la.begin(limits, 1_000, WINDOW));
      await la.fail(p, 30_000);
      expect(await lb.begin(limits, 31_000, WINDOW)).toEqual({ admitted: false, retryAfterSeconds: 59 });
    });
  });

  describe('database down', () => {
    let cluster: PgCluster;
    beforeAll(() => {
      cluster = startCluster();
    });
    afterAll(() => cluster?.destroy());

    it('every operation rejects with StoreUnavailableError while it is down, and the same store works after a restart', async () => {
      const url = await createDatabase(cluster.baseUrl, 'down');
      let now = 0;
      const s = await open(url, { nowMs: () => now, pollIntervalMs: NEVER_MS, coherenceBoundMs: 1_000, connectTimeoutMs: 2_000 });
      const attempts = s.loginAttempts();
      await s.put('k', bytes('v1'));
      await s.put('gone', bytes('x'));

      cluster.stop();
      try {
        // No wait for the pool to notice its idle connections died: a dead one handed to a
        // transaction must fail that transaction, not the process.
        const ops: Array<[string, () => Promise<unknown>]> = [
          ['get', () => s.get('k')],
          ['has', () => s.has('k')],
          ['put', () => s.put('k', bytes('v2'))],
          ['del', () => s.del('gone')],
          ['batch', () => s.batch([{ type: 'put', key: 'k', value: bytes('v2') }] satisfies BatchOp[])],
          ['putIfAbsent', () => s.putIfAbsent('new', bytes('v2'))],
          ['scan', () => s.scan('')],
          ['exclusive', () => s.exclusive('account', () => s.put('k', bytes('v2')))],
          ['login attempts', () => attempts.begin([{ bucket: 'i:x', maxFailures: 3 }], 0, 60_000)],
        ];
        for (const [name, op] of ops) {
          const err = await op().then(
            () => new Error(`${name} resolved`),
            (e: unknown) => e,
          );
          expect(err, name).toBeInstanceOf(StoreUnavailableError);
          expect((err as StoreUnavailableError).code, name).toBe('STORE_UNAVAILABLE');
        }
        // The feed cannot be read either: past the bound the store says so.
        await s.poll();
        now = 1_001;
        expect(s.coherent()).toBe(false);
      } finally {
        cluster.start();
      }

      // The pool reconnects by itself: the same store works, and nothing of the failed writes landed.
      expect(text(await s.get('k'))).toBe('v1');
      expect(text(await s.get('gone'))).toBe('x');
      expect(await s.has('new')).toBe(false);
      await s.put('k', bytes('v3'));
      expect(text(await s.get('k'))).toBe('v3');
      expect(await s.exclusive('account', () => s.putIfAbsent('new', bytes('n')))).toBe(true);
      expect((await attempts.begin([{ bucket: 'i:x', maxFailures: 3 }], 0, 60_000)).admitted).toBe(true);
      await s.poll();
      expect(s.coherent()).toBe(true);

      // And another instance sees the writes through the feed again.
      const other = await open(url);
      const arrived = nextDelivery(other, 'after-restart');
      await s.put('after-restart', bytes('1'));
      await within(arrived, 10_000, 'the feed after the restart');
    });
  });
});
