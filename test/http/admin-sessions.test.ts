/**
 * The account holder's sessions (issue 12 item 4; additions the Rust service lacks):
 * `GET /admin/sessions`, `DELETE /admin/sessions/:sid`, `POST /admin/sessions/revoke-all`.
 * What each lists and ends, the scope (the caller's key and the client keys below it, never
 * another account), no existence oracle across accounts, and ended sessions refused at once by
 * /auth/validate (its fast lane included), /admin/* and /auth/refresh.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { putOp } from '../../src/storage/store.js';
import { nowSeconds } from '../../src/util/clock.js';
import { addUser, expectEmpty, expectErr, T0, UUID_V4 } from '../helpers/http.js';
import { CLIENT_PEER } from '../helpers/service.js';
import {
  adminWorld,
  call,
  clientCaller,
  dataOf,
  expectCaller,
  expectData,
  expectRejected,
  type AdminWorld,
} from './admin-fixtures.js';

const worlds: AdminWorld[] = [];
async function world(...args: Parameters<typeof adminWorld>): Promise<AdminWorld> {
  const w = await adminWorld(...args);
  worlds.push(w);
  return w;
}
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.t.close()));
});

interface Row {
  sid: string;
  client_name: string | null;
  created_at: number;
  last_refresh_at: number | null;
  address: string | null;
  current: boolean;
}

const list = async (w: AdminWorld, token: string): Promise<Row[]> =>
  (await dataOf<{ sessions: Row[] }>(await call(w.t, 'GET', '/admin/sessions', { token }))).sessions;
const end = (w: AdminWorld, token: string, sid: string) => call(w.t, 'DELETE', `/admin/sessions/${sid}`, { token });
const validate = (w: AdminWorld, token: string) => call(w.t, 'GET', '/auth/validate', { token });
const sidOf = (token: string): string =>
  (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sid: string }).sid;

/** Moves the clock past the access token's expiry and refreshes the pair (wire §3.9). */
async function refreshAfterExpiry(w: AdminWorld, pair: { access: string; refresh: string }): Promise<Response> {
  const { jwt } = w.t.svc.config;
  w.t.clock.advanceSeconds(jwt.access_token_expiry + jwt.leeway_seconds + 1);
  return w.t.post('/auth/refresh', { access_token: pair.access, refresh_token: pair.refresh }, { host: 'localhost:3001' });
}

/** A second account ("bob") with one login session. */
async function otherAccount(w: AdminWorld): Promise<{ id: string; access: string; refresh: string; sid: string }> {
  const id = await addUser(w.t, 'bob', 'bob password 123');
  const { access, refresh, res } = await w.t.login({ username: 'bob', password: 'bob password 123' });
  expect(res.status).toBe(200);
  return { id, access, refresh, sid: sidOf(access) };
}

/** A client key minted by the admin through the route, as the login page does (its own session). */
async function mintedClient(w: AdminWorld, token = w.admin.access): Promise<{ access: string; refresh: string; sid: string }> {
  const res = await call(w.t, 'POST', '/admin/client-key', {
    token,
    body: { context_id: 'ctx-1', context_identity: 'id-1', permissions: ['context:execute'] },
  });
  const data = await dataOf<{ access_token: string; refresh_token: string }>(res);
  return { access: data.access_token, refresh: data.refresh_token, sid: sidOf(data.access_token) };
}

describe('GET /admin/sessions', () => {
  it('lists the login session: client name, created, last refresh, address, current; never a token', async () => {
    const w = await world();
    const res = await call(w.t, 'GET', '/admin/sessions', { token: w.admin.access });
    expectCaller(res, w.adminId, ['admin']);
    const text = await res.clone().text();
    expect(text).not.toContain(w.admin.access);
    expect(text).not.toContain(w.admin.refresh);
    expect(text).not.toMatch(/eyJ/);
    await expectData(res, {
      sessions: [
        {
          sid: sidOf(w.admin.access),
          client_name: 'mero-js-sdk',
          created_at: T0,
          last_refresh_at: null,
          address: CLIENT_PEER,
          current: true,
        },
      ],
      next_cursor: null,
    });
  });

  it('several logins and a minted client key: all listed, most recently active first; current marks the caller', async () => {
    const w = await world();
    w.t.clock.advanceSeconds(10);
    const second = await w.t.login({ client_name: 'http://localhost:3001/auth/login?callback-url=x', peer: '198.51.100.9' });
    w.t.clock.advanceSeconds(10);
    const client = await mintedClient(w);
    const rows = await list(w, second.access);
    expect(rows.map((r) => r.sid)).toEqual([client.sid, sidOf(second.access), sidOf(w.admin.access)]);
    expect(rows.map((r) => r.current)).toEqual([false, true, false]);
    expect(rows[0]).toMatchObject({ client_name: 'Context Client - ctx-1 (id-1)', created_at: T0 + 20, address: CLIENT_PEER });
    expect(rows[1]).toMatchObject({
      client_name: 'http://localhost:3001/auth/login?callback-url=x',
      created_at: T0 + 10,
      address: '198.51.100.9',
    });
  });

  it('a refresh sets last_refresh_at and moves the session to the top', async () => {
    const w = await world();
    const other = await w.t.login();
    const refreshed = await refreshAfterExpiry(w, w.admin);
    const pair = (JSON.parse(await refreshed.text()) as { data: { access_token: string } }).data;
    const rows = await list(w, pair.access_token);
    expect(rows.map((r) => [r.sid, r.last_refresh_at, r.current])).toEqual([
      [sidOf(w.admin.access), nowSeconds(w.t.clock), true],
      [sidOf(other.access), null, false],
    ]);
  });

  it("never another account's sessions", async () => {
    const w = await world();
    const bob = await otherAccount(w);
    expect((await list(w, w.admin.access)).map((r) => r.sid)).toEqual([sidOf(w.admin.access)]);
    expect((await list(w, bob.access)).map((r) => r.sid)).toEqual([bob.sid]);
  });

  it('ended, expired and over-age sessions are not listed', async () => {
    const w = await world({ jwt: { session_max_age: 3600 } });
    const other = await w.t.login();
    expect(await w.t.post('/auth/logout', { refresh_token: other.refresh })).toHaveProperty('status', 200);
    expect((await list(w, w.admin.access)).map((r) => r.sid)).toEqual([sidOf(w.admin.access)]);
    w.t.clock.advanceSeconds(3600);
    const fresh = await w.t.login();
    expect((await list(w, fresh.access)).map((r) => r.sid)).toEqual([sidOf(fresh.access)]);
  });

  it('a client-key caller sees only its own sessions, not the operator’s (it needs no permission for it)', async () => {
    const w = await world();
    const client = await mintedClient(w);
    const caller = await clientCaller(w.t, w.adminId, ['context:list']);
    const res = await call(w.t, 'GET', '/admin/sessions', { token: caller.access });
    expectCaller(res, caller.id, ['context:list']);
    const rows = (await dataOf<{ sessions: Row[] }>(res)).sessions;
    expect(rows.map((r) => [r.sid, r.current])).toEqual([[caller.sid, true]]);
    expect((await list(w, client.access)).map((r) => r.sid)).toEqual([client.sid]);
    // The root sees all three.
    expect((await list(w, w.admin.access)).map((r) => r.sid).sort()).toEqual(
      [sidOf(w.admin.access), client.sid, caller.sid].sort(),
    );
  });

  it('a session record written before the additions reads with nulls', async () => {
    const w = await world();
    const sid = sidOf(w.admin.access);
    await w.t.svc.core.store.batch([
      putOp(`session:${sid}`, {
        key_id: w.adminId,
        created_at: T0,
        updated_at: T0,
        expires_at: T0 + 100_000,
        revoked_at: null,
        revoked_reason: null,
        generation: 0,
      }),
    ]);
    expect(await list(w, w.admin.access)).toEqual([
      { sid, client_name: null, created_at: T0, last_refresh_at: null, address: null, current: true },
    ]);
  });

  it('a long client name is stored cut to 256 characters', async () => {
    const w = await world();
    const long = await w.t.login({ client_name: `x${'y'.repeat(400)}` });
    const row = (await list(w, long.access)).find((r) => r.current);
    expect(row?.client_name).toBe(`x${'y'.repeat(255)}`);
  });
});

interface Page {
  sessions: Row[];
  next_cursor: string | null;
}

const page = async (w: AdminWorld, token: string, query: string): Promise<Page> =>
  dataOf<Page>(await call(w.t, 'GET', `/admin/sessions?${query}`, { token }));

/** `n` (< 1000) sessions of the admin opened straight in the store, one second apart, older than any login of the test. */
async function seedSessions(w: AdminWorld, n: number): Promise<string[]> {
  const { core } = w.t.svc;
  const start = nowSeconds(w.t.clock);
  const sids: string[] = [];
  for (let i = 0; i < n; i++) {
    const opened = core.sessions.openOps(w.adminId, start + 100_000, start - 1000 + i, { clientName: `seed-${i}` });
    await core.store.batch(opened.ops);
    sids.push(opened.sid);
  }
  return sids;
}

describe('GET /admin/sessions: pages', () => {
  it('limit and next_cursor walk the whole listing in order, each session once; the last page has next_cursor null', async () => {
    const w = await world();
    await seedSessions(w, 6);
    const all = await list(w, w.admin.access);
    expect(all).toHaveLength(7);
    const seen: Row[] = [];
    const cursors: Array<string | null> = [];
    let query = 'limit=3';
    for (;;) {
      const p = await page(w, w.admin.access, query);
      expect(p.sessions.length).toBeLessThanOrEqual(3);
      seen.push(...p.sessions);
      cursors.push(p.next_cursor);
      if (p.next_cursor === null) break;
      query = `limit=3&cursor=${encodeURIComponent(p.next_cursor)}`;
    }
    expect(seen).toEqual(all);
    expect(cursors.map((c) => c === null)).toEqual([false, false, true]);
  });

  it('a page that ends exactly at the last session has next_cursor null (no empty page to fetch)', async () => {
    const w = await world();
    await seedSessions(w, 3);
    expect(await page(w, w.admin.access, 'limit=4')).toMatchObject({ next_cursor: null });
    expect((await page(w, w.admin.access, 'limit=4')).sessions).toHaveLength(4);
  });

  it('without limit: 100 rows and a cursor to the rest', async () => {
    const w = await world();
    await seedSessions(w, 120);
    const first = await page(w, w.admin.access, '');
    expect(first.sessions).toHaveLength(100);
    expect(first.next_cursor).not.toBeNull();
    const rest = await page(w, w.admin.access, `cursor=${first.next_cursor}`);
    expect(rest.sessions).toHaveLength(21);
    expect(rest.next_cursor).toBeNull();
    expect(new Set([...first.sessions, ...rest.sessions].map((r) => r.sid)).size).toBe(121);
    expect((await page(w, w.admin.access, 'limit=500')).sessions).toHaveLength(121);
  });

  it('sessions with the same activity time are ordered by sid, so a cursor between them loses none', async () => {
    const w = await world();
    const { core } = w.t.svc;
    const now = nowSeconds(w.t.clock);
    for (let i = 0; i < 5; i++) await core.store.batch(core.sessions.openOps(w.adminId, now + 100_000, now).ops);
    const all = await list(w, w.admin.access);
    expect(all).toHaveLength(6);
    const tied = all.map((r) => r.sid);
    expect(tied).toEqual([...tied].sort());
    const first = await page(w, w.admin.access, 'limit=2');
    const second = await page(w, w.admin.access, `limit=10&cursor=${first.next_cursor}`);
    expect([...first.sessions, ...second.sessions]).toEqual(all);
  });

  it('a session refreshed between two pages moves to the top and is not listed twice', async () => {
    const w = await world();
    w.t.clock.advanceSeconds(1);
    const other = await w.t.login();
    await seedSessions(w, 2);
    const first = await page(w, other.access, 'limit=2');
    expect(first.sessions.map((r) => r.sid)).toEqual([sidOf(other.access), sidOf(w.admin.access)]);
    const refreshed = await refreshAfterExpiry(w, w.admin);
    expect(refreshed.status).toBe(200);
    const token = (JSON.parse(await refreshed.text()) as { data: { access_token: string } }).data.access_token;
    const second = await page(w, token, `limit=10&cursor=${first.next_cursor}`);
    // The two seeded sessions, not the refreshed one a second time.
    expect(second.sessions.map((r) => r.client_name)).toEqual(['seed-1', 'seed-0']);
    expect((await list(w, token)).map((r) => r.sid).slice(0, 2)).toEqual([sidOf(w.admin.access), sidOf(other.access)]);
  });

  it('a cursor only says where to start: another account cannot list the admin’s sessions with it', async () => {
    const w = await world();
    await seedSessions(w, 3);
    const first = await page(w, w.admin.access, 'limit=1');
    w.t.clock.advanceSeconds(1);
    const bob = await otherAccount(w);
    // bob's session is newer than every row after the cursor: nothing of the admin's, nor bob's own.
    const res = await call(w.t, 'GET', `/admin/sessions?cursor=${first.next_cursor}`, { token: bob.access });
    await expectData(res, { sessions: [], next_cursor: null });
    expect((await page(w, bob.access, '')).sessions.map((r) => r.sid)).toEqual([bob.sid]);
  });

  it.each([
    ['limit=0'],
    ['limit=501'],
    ['limit=-1'],
    ['limit=abc'],
    ['limit=1e2'],
    ['limit=010'],
    ['limit=+5'],
    ['limit='],
    ['limit=99999999999999999999'],
  ])('%s → 400 with the accepted range', async (query) => {
    const w = await world();
    const res = await call(w.t, 'GET', `/admin/sessions?${query}`, { token: w.admin.access });
    await expectErr(res, 400, 'Invalid limit: expected an integer from 1 to 500');
  });

  it.each([
    ['not base64', 'not%20base64'],
    ['base64 of text without a sid', Buffer.from('hello', 'utf8').toString('base64url')],
    ['base64 of a negative time', Buffer.from('-5.abc', 'utf8').toString('base64url')],
    ['padded base64', `${Buffer.from('1.a', 'utf8').toString('base64')}=`],
    ['empty', ''],
    ['oversized', 'A'.repeat(5000)],
  ])('a cursor the service did not issue (%s) → 400', async (_name, cursor) => {
    const w = await world();
    const res = await call(w.t, 'GET', `/admin/sessions?cursor=${cursor}`, { token: w.admin.access });
    await expectErr(res, 400, 'Invalid cursor: pass the next_cursor of the previous page unchanged');
  });
});

describe('DELETE /admin/sessions/:sid', () => {
  it('ends one of the account’s sessions: its token is refused by /auth/validate at once (after the fast lane cached it), the rest keep working', async () => {
    const w = await world();
    const other = await w.t.login();
    expect((await validate(w, other.access)).status).toBe(200); // now in the validate lane's cache
    await expectData(await end(w, w.admin.access, sidOf(other.access)), { sid: sidOf(other.access), ended: true });

    const refused = await validate(w, other.access);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('x-auth-error')).toBe('token_revoked');
    await expectRejected(await call(w.t, 'GET', '/admin/sessions', { token: other.access }), 403, 'token_revoked');
    const refresh = await refreshAfterExpiry(w, other);
    await expectErr(refresh, 403, 'Session has been revoked', 'token_revoked');
    // The key is untouched: the caller's session still works, a fresh sign-in too.
    w.t.clock.set(T0 * 1000);
    expect((await validate(w, w.admin.access)).status).toBe(200);
    expect((await w.t.login()).res.status).toBe(200);
    const stored = await w.t.svc.core.sessions.get(sidOf(other.access));
    expect(stored).toMatchObject({ revoked_at: T0, revoked_reason: 'logout' });
  });

  it('ending the current session: the next request with it is refused', async () => {
    const w = await world();
    await expectData(await end(w, w.admin.access, sidOf(w.admin.access)), { sid: sidOf(w.admin.access), ended: true });
    await expectRejected(await call(w.t, 'GET', '/admin/sessions', { token: w.admin.access }), 403, 'token_revoked');
  });

  it('a client key the account minted: its session ends, the key stays', async () => {
    const w = await world();
    const client = await mintedClient(w);
    await expectData(await end(w, w.admin.access, client.sid), { sid: client.sid, ended: true });
    expect((await validate(w, client.access)).status).toBe(403);
    const clientId = JSON.parse(Buffer.from(client.access.split('.')[1] ?? '', 'base64url').toString('utf8')).sub as string;
    expect((await w.t.svc.core.keys.getClient(clientId))?.revoked_at).toBeNull();
  });

  it('already ended: 200 again (idempotent)', async () => {
    const w = await world();
    const other = await w.t.login();
    expect((await end(w, w.admin.access, sidOf(other.access))).status).toBe(200);
    await expectData(await end(w, w.admin.access, sidOf(other.access)), { sid: sidOf(other.access), ended: true });
  });

  it("another account's sid is a 404 exactly like an unknown one, and that session lives on", async () => {
    const w = await world();
    const bob = await otherAccount(w);
    const foreign = await end(w, w.admin.access, bob.sid);
    const unknown = await end(w, w.admin.access, '00000000-0000-4000-8000-000000000000');
    const garbage = await end(w, w.admin.access, 'not-a-sid');
    for (const res of [foreign, unknown, garbage]) {
      expectCaller(res, w.adminId, ['admin']);
      await expectErr(res, 404, 'Session not found');
    }
    expect((await validate(w, bob.access)).status).toBe(200);
    // And the other way round.
    await expectErr(await end(w, bob.access, sidOf(w.admin.access)), 404, 'Session not found');
    expect((await validate(w, w.admin.access)).status).toBe(200);
  });

  it('a client-key caller cannot end the operator’s sessions (404), only its own', async () => {
    const w = await world();
    const caller = await clientCaller(w.t, w.adminId, ['context:list']);
    await expectErr(await end(w, caller.access, sidOf(w.admin.access)), 404, 'Session not found');
    expect((await validate(w, w.admin.access)).status).toBe(200);
    expect((await end(w, caller.access, caller.sid)).status).toBe(200);
    expect((await validate(w, caller.access)).status).toBe(403);
  });

  it('a session of a client key minted below a client key is in the minting client’s scope', async () => {
    const w = await world();
    const mid = await clientCaller(w.t, w.adminId, ['admin']);
    const below = await mintedClient(w, mid.access);
    expect((await list(w, mid.access)).map((r) => r.sid).sort()).toEqual([mid.sid, below.sid].sort());
    expect((await end(w, mid.access, below.sid)).status).toBe(200);
    expect((await validate(w, below.access)).status).toBe(403);
  });
});

describe('POST /admin/sessions/revoke-all (sign out everywhere)', () => {
  const revokeAll = (w: AdminWorld, token: string, body?: unknown) =>
    call(w.t, 'POST', '/admin/sessions/revoke-all', { token, ...(body === undefined ? {} : { body }) });

  it('ends every session of the account, the caller’s included, and the minted client keys’; other accounts untouched', async () => {
    const w = await world();
    const other = await w.t.login();
    const client = await mintedClient(w);
    const bob = await otherAccount(w);
    for (const token of [w.admin.access, other.access, client.access]) expect((await validate(w, token)).status).toBe(200);
    await expectData(await revokeAll(w, w.admin.access), { revoked: 3 });
    for (const token of [w.admin.access, other.access, client.access]) {
      const res = await validate(w, token);
      expect(res.status).toBe(403);
      expect(res.headers.get('x-auth-error')).toBe('token_revoked');
    }
    expect((await validate(w, bob.access)).status).toBe(200);
    // The account itself is fine: a fresh sign-in works and sees only itself.
    const fresh = await w.t.login();
    expect((await list(w, fresh.access)).map((r) => r.sid)).toEqual([sidOf(fresh.access)]);
  });

  it('keep_current: every other session ends, the caller’s lives', async () => {
    const w = await world();
    const other = await w.t.login();
    await expectData(await revokeAll(w, w.admin.access, { keep_current: true }), { revoked: 1 });
    expect((await validate(w, w.admin.access)).status).toBe(200);
    expect((await validate(w, other.access)).status).toBe(403);
    expect((await list(w, w.admin.access)).map((r) => r.sid)).toEqual([sidOf(w.admin.access)]);
    await expectData(await revokeAll(w, w.admin.access, { keep_current: true }), { revoked: 0 });
  });

  it('a client-key caller ends only its own scope', async () => {
    const w = await world();
    const caller = await clientCaller(w.t, w.adminId, ['context:list']);
    await expectData(await revokeAll(w, caller.access, {}), { revoked: 1 });
    expect((await validate(w, w.admin.access)).status).toBe(200);
  });

  it.each([
    ['not JSON', 'nope', 400],
    ['keep_current not a boolean', { keep_current: 'yes' }, 400],
  ])('a bad body (%s) → %i, nothing ended', async (_name, body, status) => {
    const w = await world();
    const res = await revokeAll(w, w.admin.access, body);
    expect(res.status).toBe(status);
    expect((await validate(w, w.admin.access)).status).toBe(200);
  });
});

describe('the routes behind the /admin middleware', () => {
  it.each([
    ['GET', '/admin/sessions'],
    ['DELETE', `/admin/sessions/00000000-0000-4000-8000-000000000000`],
    ['POST', '/admin/sessions/revoke-all'],
  ])('%s %s without a token → 400 invalid_request, empty body', async (method, path) => {
    const w = await world();
    await expectRejected(await call(w.t, method, path), 400, 'invalid_request');
  });

  it.each([
    ['PUT', '/admin/sessions', 'GET,HEAD'],
    ['DELETE', '/admin/sessions', 'GET,HEAD'],
    ['DELETE', '/admin/sessions/revoke-all', 'POST'],
    ['GET', '/admin/sessions/revoke-all', 'POST'],
    ['GET', '/admin/sessions/some-sid', 'DELETE'],
    ['POST', '/admin/sessions/some-sid', 'DELETE'],
  ])('%s %s → 405, Allow: %s', async (method, path, allow) => {
    const w = await world();
    const res = await call(w.t, method, path, { token: w.admin.access });
    expect(res.headers.get('allow')).toBe(allow);
    expectCaller(res, w.adminId, ['admin']);
    await expectEmpty(res, 405);
    // Nothing was ended by a wrong method.
    expect((await validate(w, w.admin.access)).status).toBe(200);
  });

  it('HEAD /admin/sessions: the GET status and headers, no body', async () => {
    const w = await world();
    const res = await call(w.t, 'HEAD', '/admin/sessions', { token: w.admin.access });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('sids are UUIDs in the listing', async () => {
    const w = await world();
    for (const r of await list(w, w.admin.access)) expect(r.sid).toMatch(UUID_V4);
  });
});
