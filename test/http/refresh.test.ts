/**
 * POST /auth/refresh (wire §3.3) and the single-use exchange of §4.7.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putOp } from '../../src/storage/store.js';
import { nowSeconds } from '../../src/util/clock.js';
import {
  addClientKey,
  addUser,
  adminKeyId,
  bearer,
  decodeJwt,
  expectErr,
  expectExtraction,
  expectPair,
  forgeForeign,
  forgeUnsigned,
  JWT_HEADER,
  mintPair,
  NO_HOST_MESSAGE,
  T0,
  updateKey,
  UUID_V4,
} from '../helpers/http.js';
import { testServices, type TestService } from '../helpers/service.js';

const STILL_VALID = 'Access token still valid';
const REUSE = 'Refresh token reuse detected; re-authentication required';
const ACCESS_EXPIRY = 1800;
const L = 60;

/** Every /auth/refresh response of this file goes through here (§3.3: never token_expired). */
const seen: Response[] = [];
async function refresh(
  s: TestService,
  access: string,
  refreshToken: string,
  headers: Record<string, string> = { host: 'localhost:3001' },
): Promise<Response> {
  const res = await s.post('/auth/refresh', { access_token: access, refresh_token: refreshToken }, headers);
  seen.push(res);
  const xae = res.headers.get('x-auth-error');
  expect(xae).not.toBe('token_expired');
  expect([null, 'invalid_node', 'token_revoked', 'token_reuse']).toContain(xae);
  expect(res.headers.get('x-auth-user')).toBeNull();
  return res;
}

async function validate(s: TestService, access: string): Promise<Response> {
  return s.request('/auth/validate', { headers: bearer(access) });
}

const service = testServices();
afterAll(async () => {
  // The route never said token_expired, whatever the scenario.
  expect(seen.length).toBeGreaterThan(40);
  for (const res of seen) expect(res.headers.get('x-auth-error')).not.toBe('token_expired');
});

/** Logs in and moves the clock just past the access token's refresh line (exp + L + 1). */
async function expiredPair(s: TestService, clientName?: string): Promise<{ access: string; refresh: string }> {
  const { access, refresh: r, res } = await s.login(clientName === undefined ? {} : { client_name: clientName });
  expect(res.status).toBe(200);
  s.clock.advanceSeconds(s.svc.config.jwt.access_token_expiry + s.svc.config.jwt.leeway_seconds + 1);
  return { access, refresh: r };
}

describe('POST /auth/refresh: body extraction', () => {
  let s: TestService;
  beforeAll(async () => {
    s = await service();
  });
  const DESER = 'Invalid JSON: Failed to deserialize the JSON body into the target type: ';

  it.each([
    ['access_token', { refresh_token: 'x' }],
    ['refresh_token', { access_token: 'x' }],
  ])('400 missing field `%s`', async (field, body) => {
    await expectExtraction(await s.post('/auth/refresh', body), 400, `${DESER}missing field \`${field}\``, true);
  });

  it.each([
    ['a numeric access_token', { access_token: 1, refresh_token: 'x' }],
    ['a null refresh_token', { access_token: 'x', refresh_token: null }],
    ['an array body', []],
  ])('400 for %s', async (_name, body) => {
    await expectExtraction(await s.post('/auth/refresh', body), 400, DESER);
  });

  it.each([
    ['access_token', { access_token: '', refresh_token: 'x' }, 'access_token: Access token is required'],
    ['refresh_token', { access_token: 'x', refresh_token: '' }, 'refresh_token: Refresh token is required'],
    ['both: the first in table order', { access_token: '', refresh_token: '' }, 'access_token: Access token is required'],
  ])('422 for an empty %s', async (_name, body, message) => {
    await expectExtraction(await s.post('/auth/refresh', body), 422, `Validation error: ${message}`, true);
  });

  it('400 without a JSON content type, and for malformed JSON', async () => {
    const res = await s.request('/auth/refresh', { method: 'POST', body: '{"access_token":"a","refresh_token":"b"}' });
    await expectExtraction(res, 400, 'Invalid JSON: Expected request with `Content-Type: application/json`', true);
    await expectExtraction(
      await s.post('/auth/refresh', '{"access_token":'),
      400,
      'Invalid JSON: Failed to parse the request body as JSON: ',
    );
  });
});

describe('POST /auth/refresh: checks in order (§3.3 steps 2–9)', () => {
  let s: TestService;
  beforeAll(async () => {
    s = await service();
  });

  it('step 2: an access token that does not decode → 401 "Invalid access token: …", no X-Auth-Error', async () => {
    const { refresh: r } = await s.login();
    await expectErr(await refresh(s, 'garbage', r), 401, 'Invalid access token: Invalid token: Malformed token: InvalidToken');
    await expectErr(
      await refresh(s, r, r),
      401,
      'Invalid access token: Invalid token: Wrong token type: expected Access, got Refresh',
    );
    const claims = decodeJwt(r).payload;
    await expectErr(
      await refresh(s, forgeUnsigned({ typ: 'JWT', alg: 'HS512' }, { ...claims, token_type: 'access' }), r),
      401,
      'Invalid access token: Invalid token: InvalidAlgorithm',
    );
    await expectErr(
      await refresh(s, await forgeForeign({ ...claims, token_type: 'access' }), r),
      401,
      'Invalid access token: Invalid token: InvalidSignature',
    );
  });

  it('step 3: right after login → 401 "Access token still valid" exactly, no X-Auth-Error', async () => {
    const { access, refresh: r } = await s.login();
    const res = await refresh(s, access, r);
    expect(await res.text()).toBe('{"data":null,"error":"Access token still valid"}');
    expect(res.status).toBe(401);
    expect(res.headers.get('x-auth-error')).toBeNull();
    // Nothing was consumed: the same pair refreshes once it has expired.
    s.clock.advanceSeconds(ACCESS_EXPIRY + L + 1);
    await expectPair(await refresh(s, access, r));
  });

  it('step 3 runs before the refresh token is looked at', async () => {
    const { access } = await s.login();
    await expectErr(await refresh(s, access, 'garbage'), 401, STILL_VALID);
  });

  it('step 4: a garbage refresh token → 401 "Invalid refresh token: …"', async () => {
    const { access } = await expiredPair(s);
    await expectErr(
      await refresh(s, access, 'garbage'),
      401,
      'Invalid refresh token: Invalid token: Malformed token: InvalidToken',
    );
    await expectErr(
      await refresh(s, access, 'x'.repeat(10_000)),
      401,
      'Invalid refresh token: Invalid token: Malformed token: InvalidToken',
    );
  });

  it('step 4: an access token in both slots → wrong token type', async () => {
    const { access } = await expiredPair(s);
    const { access: fresh } = await s.login(); // same subject, not expired
    await expectErr(
      await refresh(s, access, fresh),
      401,
      'Invalid refresh token: Invalid token: Wrong token type: expected Refresh, got Access',
    );
  });

  it('step 4: a forged refresh token (alg none, HS512, foreign key) is refused', async () => {
    const { access, refresh: r } = await expiredPair(s);
    const claims = decodeJwt(r).payload;
    await expectErr(
      await refresh(s, access, forgeUnsigned({ alg: 'none' }, claims, 'x')),
      401,
      'Invalid refresh token: Invalid token: InvalidAlgorithm',
    );
    await expectErr(
      await refresh(s, access, forgeUnsigned({ typ: 'JWT', alg: 'HS512' }, claims)),
      401,
      'Invalid refresh token: Invalid token: InvalidAlgorithm',
    );
    await expectErr(
      await refresh(s, access, await forgeForeign(claims)),
      401,
      'Invalid refresh token: Invalid token: InvalidSignature',
    );
  });

  it('step 5: access and refresh of different subjects → 401', async () => {
    await addUser(s, 'bob', 'bob-password');
    const admin = await s.login();
    const bob = await s.login({ username: 'bob', password: 'bob-password' });
    s.clock.advanceSeconds(ACCESS_EXPIRY + L + 1);
    await expectErr(
      await refresh(s, admin.access, bob.refresh),
      401,
      'Access and refresh tokens do not belong to the same subject',
    );
  });

  it('step 6: node binding → 403 invalid_node', async () => {
    const { access, refresh: r } = await expiredPair(s, 'https://node1.example.com/app');
    await expectErr(
      await refresh(s, access, r, { host: 'node2.example.com' }),
      403,
      "Token is not valid for this host. Token is for 'node1.example.com' but request is to 'node2.example.com'",
      'invalid_node',
    );
    await expectErr(await refresh(s, access, r, {}), 403, NO_HOST_MESSAGE, 'invalid_node');
    await expectErr(
      await refresh(s, access, r, { host: 'node1.example.com', 'x-forwarded-host': 'evil.example' }),
      403,
      "Token is not valid for this host. Token is for 'node1.example.com' but request is to 'evil.example'",
      'invalid_node',
    );
    // The right host (any port) passes.
    await expectPair(await refresh(s, access, r, { host: 'node1.example.com:8443' }));
  });

  it('step 6: with jwt.node_host the headers are ignored', async () => {
    const p = await service({ jwt: { node_host: 'node-b.example' } });
    const { access, refresh: r } = await expiredPair(p, 'http://node-b.example:2428');
    await expectPair(await refresh(p, access, r, { 'x-forwarded-host': 'node-a.example' }));
    const a = await expiredPair(p, 'http://node-a.example');
    await expectErr(
      await refresh(p, a.access, a.refresh, { host: 'node-a.example', 'x-forwarded-host': 'node-a.example' }),
      403,
      "Token is not valid for this host. Token is for 'node-a.example' but request is to 'node-b.example'",
      'invalid_node',
    );
  });

  it('step 7: unknown key → 401; revoked key → 403 token_revoked; expired key → 401', async () => {
    const ghost = await mintPair(s, { sub: 'f'.repeat(64) });
    s.clock.advanceSeconds(ACCESS_EXPIRY + L + 1);
    await expectErr(await refresh(s, ghost.access, ghost.refresh), 401, 'Invalid refresh token: Key not found');

    const id = await addUser(s, 'carol', 'carol-password');
    const c1 = await s.login({ username: 'carol', password: 'carol-password' });
    const c2 = await s.login({ username: 'carol', password: 'carol-password' });
    s.clock.advanceSeconds(ACCESS_EXPIRY + L + 1);
    await updateKey(s, id, { expires_at: nowSeconds(s.clock) });
    await expectErr(await refresh(s, c1.access, c1.refresh), 401, 'Invalid refresh token: Key expired');
    await updateKey(s, id, { expires_at: null, revoked_at: nowSeconds(s.clock) });
    await expectErr(await refresh(s, c2.access, c2.refresh), 403, 'Key has been revoked', 'token_revoked');
  });

  it('step 8: unknown session → 401; revoked session (logout) → 403 token_revoked', async () => {
    const noSession = await mintPair(s, { session: false });
    const { access, refresh: r } = await s.login();
    s.clock.advanceSeconds(ACCESS_EXPIRY + L + 1);
    await expectErr(await refresh(s, noSession.access, noSession.refresh), 401, 'Invalid refresh token: Session not found');
    const out = await s.post('/auth/logout', { refresh_token: r });
    expect(out.status).toBe(200);
    await expectErr(await refresh(s, access, r), 403, 'Session has been revoked', 'token_revoked');
  });

  it('step 9: a client key whose root key is revoked → 403 token_revoked', async () => {
    const rootId = await addUser(s, 'dave', 'dave-password');
    const clientId = await addClientKey(s, rootId, ['admin']);
    const pair = await mintPair(s, { sub: clientId, permissions: ['admin'] });
    s.clock.advanceSeconds(ACCESS_EXPIRY + L + 1);
    await updateKey(s, rootId, { revoked_at: nowSeconds(s.clock) });
    await expectErr(
      await refresh(s, pair.access, pair.refresh),
      403,
      'Client key is no longer authorised by its root key',
      'token_revoked',
    );
  });

  it('step 9: the parent must still grant every permission of the client key (permissions.md §9)', async () => {
    const rootId = await addUser(s, 'erin', 'erin-password');
    await updateKey(s, rootId, { permissions: ['context:list', 'context:create'] });
    const clientId = await addClientKey(s, rootId, ['context:create']);
    const first = await mintPair(s, { sub: clientId, permissions: ['context:create'] });
    s.clock.advanceSeconds(ACCESS_EXPIRY + L + 1);
    const next = await expectPair(await refresh(s, first.access, first.refresh));
    expect(decodeJwt(next.access).payload.sub).toBe(clientId); // client ids are stable
    // The root key stops granting context:create: the family cannot be refreshed any more.
    await updateKey(s, rootId, { permissions: ['context:list'] });
    s.clock.advanceSeconds(ACCESS_EXPIRY + L + 1);
    await expectErr(
      await refresh(s, next.access, next.refresh),
      403,
      'Client key is no longer authorised by its root key',
      'token_revoked',
    );
  });
});

describe('POST /auth/refresh: the expiry line (§4.4, leeway)', () => {
  it.each([
    ['default leeway 60', 60],
    ['leeway 0', 0],
  ])('%s: "still valid" up to exp + L, refreshes at exp + L + 1; validate agrees', async (_name, leeway) => {
    const s = await service({ jwt: { leeway_seconds: leeway } });
    const { access, refresh: r } = await s.login();
    const exp = decodeJwt(access).payload.exp as number;
    s.clock.set((exp + leeway) * 1000);
    expect((await validate(s, access)).status).toBe(200);
    await expectErr(await refresh(s, access, r), 401, STILL_VALID);
    // Sub-second time does not move the line (whole seconds, floor).
    s.clock.set((exp + leeway) * 1000 + 999);
    await expectErr(await refresh(s, access, r), 401, STILL_VALID);
    s.clock.set((exp + leeway + 1) * 1000);
    const v = await validate(s, access);
    expect(v.status).toBe(401);
    expect(v.headers.get('x-auth-error')).toBe('token_expired');
    await expectPair(await refresh(s, access, r));
  });

  it('an expired refresh token → 401 "Invalid refresh token: Token has expired" without token_expired', async () => {
    const s = await service({ jwt: { access_token_expiry: 60, refresh_token_expiry: 120 } });
    const one = await s.login();
    const two = await s.login();
    // At refresh exp + L the refresh token still verifies …
    s.clock.set((T0 + 120 + L) * 1000);
    await expectPair(await refresh(s, one.access, one.refresh));
    // … one second later it has expired.
    s.clock.advanceSeconds(1);
    const res = await refresh(s, two.access, two.refresh);
    await expectErr(res, 401, 'Invalid refresh token: Token has expired');
  });

  it('an access token long past its expiry still decodes (entry point 3 ignores expiry)', async () => {
    const s = await service();
    const { access, refresh: r } = await s.login();
    s.clock.advanceSeconds(20 * 86_400);
    await expectPair(await refresh(s, access, r));
  });
});

describe('POST /auth/refresh: success (§3.3 step 12, §4.7)', () => {
  it('returns a new pair in the same session with live permissions and the same node_url', async () => {
    const s = await service();
    const { access, refresh: r } = await s.login({ client_name: 'http://localhost:2428/auth/login' });
    const keyId = await adminKeyId(s);
    s.clock.advanceSeconds(ACCESS_EXPIRY + L + 1);
    const now = nowSeconds(s.clock);
    await updateKey(s, keyId, { permissions: ['admin', 'keys:list'] });
    const res = await refresh(s, access, r, { host: 'localhost:2428', authorization: 'Bearer ignored-garbage' });
    expect(res.headers.get('x-auth-error')).toBeNull();
    const pair = await expectPair(res);
    const a = decodeJwt(pair.access);
    const rr = decodeJwt(pair.refresh);
    const old = decodeJwt(access).payload;
    expect(a.headerPart).toBe(JWT_HEADER);
    expect(rr.headerPart).toBe(JWT_HEADER);
    expect(a.payload).toEqual({
      sub: keyId,
      iss: 'calimero-auth',
      aud: 'calimero-auth',
      exp: now + ACCESS_EXPIRY,
      iat: now,
      jti: expect.stringMatching(UUID_V4),
      token_type: 'access',
      permissions: ['admin', 'keys:list'],
      node_url: 'http://localhost:2428/auth/login',
      sid: old.sid,
    });
    // jwt.session_max_age (30 days by default) caps the refresh token at the session's end.
    expect(rr.payload).toEqual({
      ...a.payload,
      exp: (old.iat as number) + 2_592_000,
      jti: expect.stringMatching(UUID_V4),
      token_type: 'refresh',
    });
    expect(a.payload.jti).not.toBe(old.jti);
    expect((await s.request('/auth/validate', { headers: bearer(pair.access, { host: 'localhost:2428' }) })).status).toBe(200);
  });

  it('a client key refresh keeps sub (the client id) stable', async () => {
    const s = await service();
    const clientId = await addClientKey(s, await adminKeyId(s), ['admin']);
    const pair = await mintPair(s, { sub: clientId });
    s.clock.advanceSeconds(ACCESS_EXPIRY + L + 1);
    const next = await expectPair(await refresh(s, pair.access, pair.refresh));
    expect(decodeJwt(next.access).payload.sub).toBe(clientId);
    expect(decodeJwt(next.refresh).payload.sub).toBe(clientId);
  });

  it('a token without node_url refreshes with no host header at all', async () => {
    const s = await service();
    const pair = await mintPair(s);
    s.clock.advanceSeconds(ACCESS_EXPIRY + L + 1);
    const next = await expectPair(await refresh(s, pair.access, pair.refresh, {}));
    expect(decodeJwt(next.access).payload).not.toHaveProperty('node_url');
  });
});

describe('Security: refresh token replay (§4.7)', () => {
  it('reuse → 401 token_reuse; the session dies (successor refresh 403, successor access 403); the root key survives', async () => {
    const s = await service();
    const other = await s.login(); // another session of the same account
    const { access, refresh: r } = await expiredPair(s);
    const next = await expectPair(await refresh(s, access, r));
    expect((await validate(s, next.access)).status).toBe(200);

    await expectErr(await refresh(s, access, r), 401, REUSE, 'token_reuse');

    const v = await validate(s, next.access);
    await expectErr(v, 403, 'Session has been revoked', 'token_revoked');
    s.clock.advanceSeconds(ACCESS_EXPIRY + L + 1);
    await expectErr(await refresh(s, next.access, next.refresh), 403, 'Session has been revoked', 'token_revoked');
    // Replaying the original once more stays terminal.
    const again = await refresh(s, access, r);
    expect(again.status).toBe(403);
    expect(again.headers.get('x-auth-error')).toBe('token_revoked');

    // The root key is untouched: a new login works, and the other session still refreshes.
    const key = await s.svc.core.keys.get(await adminKeyId(s));
    expect(key?.revoked_at).toBeNull();
    const fresh = await s.login();
    expect(fresh.res.status).toBe(200);
    expect((await validate(s, fresh.access)).status).toBe(200);
    await expectPair(await refresh(s, other.access, other.refresh));
  });

  it('reuse on a client family also revokes the client key', async () => {
    const s = await service();
    const clientId = await addClientKey(s, await adminKeyId(s), ['admin']);
    const pair = await mintPair(s, { sub: clientId });
    const sibling = await mintPair(s, { sub: clientId });
    s.clock.advanceSeconds(ACCESS_EXPIRY + L + 1);
    await expectPair(await refresh(s, pair.access, pair.refresh));
    await expectErr(await refresh(s, pair.access, pair.refresh), 401, REUSE, 'token_reuse');
    const key = await s.svc.core.keys.get(clientId);
    expect(key?.revoked_at).toBe(nowSeconds(s.clock));
    await expectErr(await refresh(s, sibling.access, sibling.refresh), 403, 'Key has been revoked', 'token_revoked');
  });

  it('grace window: a replay within G returns the byte-identical pair and the session stays live; after G it is reuse', async () => {
    const s = await service({ jwt: { refresh_reuse_grace_seconds: 10 } });
    const { access, refresh: r } = await expiredPair(s);
    const first = await expectPair(await refresh(s, access, r));
    s.clock.advanceSeconds(10);
    const replay = await expectPair(await refresh(s, access, r));
    expect(replay.text).toBe(first.text);
    expect((await validate(s, first.access)).status).toBe(200);
    s.clock.advanceSeconds(1);
    await expectErr(await refresh(s, access, r), 401, REUSE, 'token_reuse');
    await expectErr(await validate(s, first.access), 403, 'Session has been revoked', 'token_revoked');
  });

  it('grace window never forks: once the successor was exchanged, replaying the original is reuse', async () => {
    const s = await service({ jwt: { refresh_reuse_grace_seconds: 30, access_token_expiry: 1, leeway_seconds: 0 } });
    const { access, refresh: r } = await s.login();
    s.clock.advanceSeconds(2);
    const second = await expectPair(await refresh(s, access, r));
    s.clock.advanceSeconds(2);
    const third = await expectPair(await refresh(s, second.access, second.refresh));
    await expectErr(await refresh(s, access, r), 401, REUSE, 'token_reuse');
    await expectErr(await validate(s, third.access), 403, 'Session has been revoked', 'token_revoked');
  });

  it('grace 0: two concurrent exchanges → exactly one 200 and one 401 token_reuse; the session is revoked', async () => {
    const s = await service();
    const { access, refresh: r } = await expiredPair(s);
    const results = await Promise.all([refresh(s, access, r), refresh(s, access, r), refresh(s, access, r)]);
    const statuses = results.map((x) => x.status).sort();
    expect(statuses[0]).toBe(200);
    // The first loser finds the marker and revokes the session; later losers see it revoked.
    expect(statuses.filter((x) => x === 200)).toHaveLength(1);
    const losers = results.filter((x) => x.status !== 200);
    expect(losers.map((x) => x.headers.get('x-auth-error'))).toContain('token_reuse');
    for (const l of losers) expect(['token_reuse', 'token_revoked']).toContain(l.headers.get('x-auth-error'));
    const winner = results.find((x) => x.status === 200);
    const pair = await expectPair(winner as Response);
    await expectErr(await validate(s, pair.access), 403, 'Session has been revoked', 'token_revoked');
  });

  it('grace 0: exactly two concurrent exchanges → one 200, one 401 token_reuse', async () => {
    const s = await service();
    const { access, refresh: r } = await expiredPair(s);
    const [a, b] = await Promise.all([refresh(s, access, r), refresh(s, access, r)]);
    const byStatus = [a, b].sort((x, y) => x.status - y.status);
    expect(byStatus.map((x) => x.status)).toEqual([200, 401]);
    await expectErr(byStatus[1] as Response, 401, REUSE, 'token_reuse');
  });
});

describe('Security: a session cannot be refreshed forever (jwt.session_max_age, issue 10 item 3)', () => {
  const TOO_OLD = 'Invalid refresh token: Session has reached its maximum age; log in again';
  const DAY = 86_400;

  /** Refreshes `pair` as soon as its access token may be, once; returns the successor pair. */
  async function refreshOnce(s: TestService, pair: { access: string; refresh: string }) {
    s.clock.advanceSeconds(ACCESS_EXPIRY + L + 1);
    const next = await expectPair(await refresh(s, pair.access, pair.refresh));
    return { access: next.access, refresh: next.refresh };
  }

  it('by default 30 days from login: tokens are capped at that instant, and the next refresh is a 401', async () => {
    const s = await service();
    const login = await s.login();
    const loginAt = decodeJwt(login.access).payload.iat as number;
    const end = loginAt + 30 * DAY;
    // Refresh a day before the end: the refresh token may not outlive the session.
    s.clock.set((end - DAY) * 1000);
    let pair = await refreshOnce(s, login);
    expect(decodeJwt(pair.refresh).payload.exp).toBe(end);
    expect(decodeJwt(pair.access).payload.exp).toBe(nowSeconds(s.clock) + ACCESS_EXPIRY);
    // Keep refreshing until the session's end: each refresh is valid, none moves the end.
    while (nowSeconds(s.clock) + ACCESS_EXPIRY + L + 1 < end) pair = await refreshOnce(s, pair);
    // Past the end no pair of the session refreshes any more.
    s.clock.set((end + L + 1) * 1000);
    const late = await refresh(s, pair.access, pair.refresh);
    expect(late.status).toBe(401);
    // A fresh login starts a new session with a new 30 days.
    expect((await s.login()).res.status).toBe(200);
  });

  it('a session older than the max age (opened before the upgrade, or the age was lowered) → 401 at once, nothing consumed', async () => {
    const s = await service();
    const login = await s.login();
    const sid = decodeJwt(login.refresh).payload.sid as string;
    const { core } = s.svc;
    const record = await core.sessions.get(sid);
    await core.store.batch([putOp(`session:${sid}`, { ...record, created_at: record!.created_at - 31 * DAY })]);
    s.clock.advanceSeconds(ACCESS_EXPIRY + L + 1);
    await expectErr(await refresh(s, login.access, login.refresh), 401, TOO_OLD);
    expect((await core.sessions.get(sid))?.generation).toBe(0);
  });

  it('a shorter max age caps the first pair of a login too', async () => {
    const s = await service({ jwt: { session_max_age: 3600 } });
    const login = await s.login();
    const { iat, exp } = decodeJwt(login.refresh).payload as { iat: number; exp: number };
    expect(exp).toBe(iat + 3600);
    s.clock.advanceSeconds(3600);
    await expectErr(await refresh(s, login.access, login.refresh), 401, TOO_OLD);
  });

  it("0 = unlimited (the Rust service's behaviour, on request): a refresh 60 days in still extends the session", async () => {
    const s = await service({ jwt: { session_max_age: 0 } });
    let pair: { access: string; refresh: string } = await s.login();
    for (let i = 0; i < 4; i++) {
      s.clock.advanceSeconds(15 * DAY);
      pair = await refreshOnce(s, pair);
    }
    expect(decodeJwt(pair.refresh).payload.exp).toBe(nowSeconds(s.clock) + 2_592_000);
  });
});

describe('Security: refresh pairs belong to one session (issue 10 item 6)', () => {
  it('the expired access token of one session with the refresh token of another of the same key → 401, nothing consumed', async () => {
    const s = await service();
    const a = await s.login();
    const b = await s.login();
    s.clock.advanceSeconds(ACCESS_EXPIRY + L + 1);
    await expectErr(await refresh(s, a.access, b.refresh), 401, 'Access and refresh tokens do not belong to the same session');
    // b's refresh token was not spent: its own pair still refreshes.
    await expectPair(await refresh(s, b.access, b.refresh));
  });
});
