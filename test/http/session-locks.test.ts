/**
 * The session lock as a reader/writer pair (issue 11): a refresh or logout holds the global
 * session lock shared plus its own session's lock, so different sessions exchange side by side,
 * while every writer that revokes sessions wholesale (key revocation, password change, sweep)
 * holds it exclusively and still never has its revocation overwritten by a live copy.
 *
 * No timing: a refresh is held inside its synced write with a promise the test controls, and
 * what must not wait is shown to finish while it is held.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { revokeClientKey } from '../../src/keys/admin-ops.js';
import { MemoryStore } from '../../src/storage/memory.js';
import type { BatchOp, LockName } from '../../src/storage/store.js';
import { addClientKey, adminKeyId, mintPair } from '../helpers/http.js';
import { makeTestService, type TestService } from '../helpers/service.js';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A memory store that can hold a write open: the next batch touching `session:<sid>` waits for
 * `release` (after resolving `entered`). It also logs section entries and exits.
 */
class GatedStore extends MemoryStore {
  readonly events: string[] = [];
  private gate: { key: string; entered: Deferred; release: Deferred } | undefined;

  /** Also starts the event log afresh (setup writes are not part of the story). */
  holdNextWriteOf(sid: string): { entered: Promise<void>; release: () => void } {
    this.events.length = 0;
    const gate = { key: `session:${sid}`, entered: deferred(), release: deferred() };
    this.gate = gate;
    return { entered: gate.entered.promise, release: gate.release.resolve };
  }

  override async batch(ops: BatchOp[]): Promise<void> {
    const gate = this.gate;
    if (gate !== undefined && ops.some((op) => op.key === gate.key)) {
      this.gate = undefined;
      gate.entered.resolve();
      await gate.release.promise;
    }
    for (const op of ops) if (op.key.startsWith('session:')) this.events.push(`write ${op.key}`);
    return super.batch(ops);
  }

  override exclusive<T>(name: LockName, fn: () => Promise<T>): Promise<T> {
    return super.exclusive(name, async () => {
      this.events.push(`enter exclusive ${name}`);
      try {
        return await fn();
      } finally {
        this.events.push(`exit exclusive ${name}`);
      }
    });
  }

  override shared<T>(name: LockName, fn: () => Promise<T>, member?: string): Promise<T> {
    const what = member === undefined ? `shared ${name}` : `${name} ${member}`;
    return super.shared(
      name,
      async () => {
        this.events.push(`enter ${what}`);
        try {
          return await fn();
        } finally {
          this.events.push(`exit ${what}`);
        }
      },
      member,
    );
  }
}

const open: TestService[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function service(store: GatedStore): Promise<TestService> {
  const s = await makeTestService({}, { store });
  open.push(s);
  return s;
}

function refresh(s: TestService, pair: { access: string; refresh: string }): Promise<Response> {
  return s.post('/auth/refresh', { access_token: pair.access, refresh_token: pair.refresh }, { host: 'localhost:3001' });
}

function pastAccessExpiry(s: TestService): void {
  s.clock.advanceSeconds(s.svc.config.jwt.access_token_expiry + s.svc.config.jwt.leeway_seconds + 1);
}

describe('per-session refresh sections (issue 11)', () => {
  it('a refresh of another session completes while the first one is held inside its write', async () => {
    const store = new GatedStore();
    const s = await service(store);
    const a = await mintPair(s);
    const b = await mintPair(s);
    pastAccessExpiry(s);

    const held = store.holdNextWriteOf(a.sid);
    let aSettled = false;
    const first = refresh(s, a).finally(() => (aSettled = true));
    await held.entered; // A is inside its section, in the synced write of the exchange
    try {
      const second = await refresh(s, b);
      expect(second.status).toBe(200);
      expect(aSettled).toBe(false);
      // B's section opened and closed inside A's: they overlapped.
      const ev = store.events;
      expect(ev.indexOf(`enter session ${b.sid}`)).toBeGreaterThan(ev.indexOf(`enter session ${a.sid}`));
      expect(ev.indexOf(`exit session ${b.sid}`)).toBeGreaterThan(-1);
      expect(ev.indexOf(`exit session ${a.sid}`)).toBe(-1);
    } finally {
      held.release();
    }
    expect((await first).status).toBe(200);
    expect((await s.svc.core.sessions.get(a.sid))?.generation).toBe(1);
    expect((await s.svc.core.sessions.get(b.sid))?.generation).toBe(1);
  });

  it('two exchanges of the same session still serialise: exactly one 200, the replay is reuse', async () => {
    const store = new GatedStore();
    const s = await service(store);
    const a = await mintPair(s);
    pastAccessExpiry(s);

    const held = store.holdNextWriteOf(a.sid);
    const first = refresh(s, a);
    await held.entered;
    const second = refresh(s, a);
    held.release();
    const statuses = [(await first).status, (await second).status];
    expect(statuses).toEqual([200, 401]);
    const ev = store.events.filter((e) => e.includes(a.sid) && !e.startsWith('write'));
    expect(ev).toEqual([`enter session ${a.sid}`, `exit session ${a.sid}`, `enter session ${a.sid}`, `exit session ${a.sid}`]);
    expect((await s.svc.core.sessions.get(a.sid))?.revoked_reason).toBe('refresh_reuse');
  });

  it('a key revocation waits for a refresh of its session held in its write: the revoked record is never overwritten by the live copy', async () => {
    const store = new GatedStore();
    const s = await service(store);
    const root = await adminKeyId(s);
    const clientId = await addClientKey(s, root, ['admin']);
    const c = await mintPair(s, { sub: clientId });
    pastAccessExpiry(s);

    const held = store.holdNextWriteOf(c.sid);
    const exchange = refresh(s, c);
    await held.entered; // the exchange has read the live session and is writing its update
    const revocation = revokeClientKey(s.svc.core, root, clientId);
    held.release();
    expect((await exchange).status).toBe(200);
    await revocation;

    const ev = store.events;
    // The revocation's section began only after the refresh's ended, and wrote after it.
    expect(ev.indexOf('enter exclusive session')).toBeGreaterThan(ev.indexOf(`exit session ${c.sid}`));
    const writes = ev.filter((e) => e === `write session:${c.sid}`);
    expect(writes).toHaveLength(2);
    const session = await s.svc.core.sessions.get(c.sid);
    expect(session?.revoked_reason).toBe('key_revoked');
    expect(session?.generation).toBe(1); // it revoked the refreshed record, not a stale one
  });

  it('a refresh that arrives while a key revocation is writing gets 403 token_revoked, and the record stays revoked', async () => {
    const store = new GatedStore();
    const s = await service(store);
    const root = await adminKeyId(s);
    const clientId = await addClientKey(s, root, ['admin']);
    const c = await mintPair(s, { sub: clientId });
    pastAccessExpiry(s);

    const held = store.holdNextWriteOf(c.sid);
    const revocation = revokeClientKey(s.svc.core, root, clientId);
    await held.entered; // the revocation holds the exclusive lock, inside its write
    const exchange = refresh(s, c);
    held.release();
    await revocation;
    const res = await exchange;
    expect(res.status).toBe(403);
    expect(res.headers.get('x-auth-error')).toBe('token_revoked');
    const session = await s.svc.core.sessions.get(c.sid);
    expect(session?.revoked_reason).toBe('key_revoked');
    expect(session?.generation).toBe(0);
  });

  it('logout of one session does not wait for a refresh of another, and leaves no member lock behind', async () => {
    const store = new GatedStore();
    const s = await service(store);
    const a = await mintPair(s);
    const b = await mintPair(s);
    pastAccessExpiry(s);

    const held = store.holdNextWriteOf(a.sid);
    const first = refresh(s, a);
    await held.entered;
    try {
      const out = await s.post('/auth/logout', { refresh_token: b.refresh });
      expect(out.status).toBe(200);
      expect((await s.svc.core.sessions.get(b.sid))?.revoked_reason).toBe('logout');
      expect(store.lockedMembers).toBe(1); // only A's, still held
    } finally {
      held.release();
    }
    expect((await first).status).toBe(200);
    expect(store.lockedMembers).toBe(0);
  });

  it('many sessions refreshed at once leave the member lock map empty', async () => {
    const store = new GatedStore();
    const s = await service(store);
    const pairs = await Promise.all(Array.from({ length: 50 }, () => mintPair(s)));
    pastAccessExpiry(s);
    const results = await Promise.all(pairs.map((p) => refresh(s, p)));
    expect(results.map((r) => r.status)).toEqual(pairs.map(() => 200));
    expect(store.lockedMembers).toBe(0);
  });
});
