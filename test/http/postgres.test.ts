/**
 * Several service instances on one PostgreSQL database, through app.request(): sessions ended on
 * one are refused by the other once its change feed has caught up, refresh tokens are single-use
 * across instances, the signing secrets rotate once for all, and a database that is down is a 503
 * with Retry-After (never a 500) until it is back.
 */
import { createHash, webcrypto } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import * as OTPAuth from 'otpauth';
import type { AuthConfigInput } from '../../src/config/load.js';
import { BACKUP_KEY, PRIMARY_KEY, openRecord } from '../../src/secrets/record.js';
import { PostgresStore, type PostgresStoreOptions } from '../../src/storage/postgres.js';
import { ManualClock } from '../../src/util/clock.js';
import { bearer, expectErr } from '../helpers/http.js';
import {
  createDatabase,
  describeWithPostgres,
  pgOptions,
  sharedPgUrl,
  startCluster,
  type PgCluster,
  NEVER_MS,
  within,
} from '../helpers/postgres.js';
import { makeTestService, type TestService } from '../helpers/service.js';

const KEK = 'a shared key-encryption key for the postgres tests';
const ENV = { MERO_AUTH_SECRET_KEK: KEK };
/** The 32-byte KEK resolveKek derives from the passphrase. */
const KEK_BYTES = new Uint8Array(createHash('sha256').update(KEK, 'utf8').digest());
const UNAVAILABLE = 'Service temporarily unavailable: the database cannot be reached';

/** Resolves when `store`'s feed reports a key starting with `prefix` (or 'all'). */
function nextDelivery(store: PostgresStore, prefix: string): Promise<void> {
  return new Promise((resolve) =>
    store.subscribe((keys) => {
      if (keys === 'all' || keys.some((k) => k.startsWith(prefix))) resolve();
    }),
  );
}

function pgStore(t: TestService): PostgresStore {
  if (!(t.store instanceof PostgresStore)) throw new Error('not a postgres-backed service');
  return t.store;
}

async function expectUnavailable(res: Response, what: string): Promise<void> {
  expect(res.status, what).toBe(503);
  expect(res.headers.get('retry-after'), what).toBe('1');
  expect(res.headers.get('content-type'), what).toBe('application/json');
  expect(await res.text(), what).toBe(JSON.stringify({ data: null, error: UNAVAILABLE }));
}

describeWithPostgres('several services on one PostgreSQL database', () => {
  const made: TestService[] = [];
  const stores: PostgresStore[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((s) => s.close().catch(() => undefined)));
    await Promise.all(stores.splice(0).map((s) => s.close().catch(() => undefined)));
  });

  /** One instance: its own PostgresStore (pool, feed) on `url`, the shared KEK, `clock`. */
  async function instance(
    url: string,
    clock: ManualClock,
    config: AuthConfigInput = {},
    storeOptions: Partial<PostgresStoreOptions> = {},
  ): Promise<TestService> {
    const store = await PostgresStore.open(pgOptions(url, storeOptions));
    stores.push(store); // closed even if the service fails to open
    const s = await makeTestService(config, { store, clock, env: ENV });
    made.push(s);
    return s;
  }

  const validate = (s: TestService, access: string) => s.request('/auth/validate', { headers: bearer(access) });
  const refresh = (s: TestService, access: string, refreshToken: string) =>
    s.post('/auth/refresh', { access_token: access, refresh_token: refreshToken }, { host: 'localhost:3001' });

  it('Security: wrong TOTP codes fill one per-account bucket across instances (3 on A, 2 on B, then 429 on A)', async () => {
    const url = await createDatabase(sharedPgUrl(), 'svc_totp_bucket');
    const clock = new ManualClock();
    const a = await instance(url, clock);
    const token = (await a.login()).access;
    const authed = (path: string, body: unknown = {}) =>
      a.request(path, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const start = ((await (await authed('/admin/totp')).json()) as { data: { secret: string } }).data;
    const code = () =>
      new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(start.secret), digits: 6, period: 30 }).generate({
        timestamp: clock.nowMs(),
      });
    expect((await authed('/admin/totp/confirm', { code: code() })).status).toBe(200);
    clock.advanceSeconds(30);
    const b = await instance(url, clock);
    const guess = (s: TestService, i: number, totp: string) =>
      s.post('/auth/token', {
        auth_method: 'user_password',
        public_key: `rotating-${i}`,
        client_name: 'mero-js-sdk',
        timestamp: 1_700_000_000,
        provider_data: { username: 'admin', password: 'correct horse battery', totp_code: totp },
      });
    for (let i = 0; i < 5; i++) expect((await guess(i < 3 ? a : b, i, '000000')).status).toBe(401);
    const locked = await guess(a, 5, code());
    await expectErr(locked, 429, 'Too many wrong second-factor codes for this account; please try again later');
  });

  it('a session started on A validates on B; logged out on B, A refuses it once its feed has caught up', async () => {
    const url = await createDatabase(sharedPgUrl(), 'svc_logout');
    const clock = new ManualClock();
    // A reads the feed only when told (no timer, no NOTIFY) and its coherence clock stands
    // still, so what it answers before the poll is its cache's answer.
    const a = await instance(url, clock, {}, { pollIntervalMs: NEVER_MS, nowMs: () => 0 });
    const b = await instance(url, clock);
    await pgStore(a).poll();
    const deaf = (pgStore(a) as unknown as { notifier?: pg.Client }).notifier;
    await deaf?.query('UNLISTEN *');

    const { access, refresh: refreshToken, res } = await a.login();
    expect(res.status).toBe(200);
    expect((await validate(b, access)).status).toBe(200);
    expect((await validate(a, access)).status).toBe(200); // now in A's cache

    const out = await b.post('/auth/logout', { refresh_token: refreshToken });
    expect(out.status).toBe(200);
    await expectErr(await validate(b, access), 403, 'Session has been revoked', 'token_revoked');
    // A has not read the feed yet: its cache still holds the live session (within the bound).
    expect((await validate(a, access)).status).toBe(200);

    await pgStore(a).poll();
    await expectErr(await validate(a, access), 403, 'Session has been revoked', 'token_revoked');
  });

  it('with the default feed (timer and NOTIFY), A refuses a session revoked on B without being told to poll', async () => {
    const url = await createDatabase(sharedPgUrl(), 'svc_logout_feed');
    const clock = new ManualClock();
    const a = await instance(url, clock);
    const b = await instance(url, clock);
    const { access, refresh: refreshToken } = await a.login();
    expect((await validate(a, access)).status).toBe(200);
    const heard = nextDelivery(pgStore(a), 'session:');
    expect((await b.post('/auth/logout', { refresh_token: refreshToken })).status).toBe(200);
    await within(heard, 5_000, "A's feed to report the revoked session");
    await expectErr(await validate(a, access), 403, 'Session has been revoked', 'token_revoked');
  });

  it('DELETE /admin/sessions/:sid and revoke-all on B: A refuses those sessions once it has read its feed (issue 12)', async () => {
    const url = await createDatabase(sharedPgUrl(), 'svc_admin_sessions');
    const clock = new ManualClock();
    const a = await instance(url, clock);
    const b = await instance(url, clock);
    const one = await a.login();
    const two = await a.login();
    const three = await b.login();
    for (const p of [one, two]) expect((await validate(a, p.access)).status).toBe(200); // in A's cache
    const sidOf = (token: string) =>
      (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sid: string }).sid;

    const listed = await b.request('/admin/sessions', { headers: { ...bearer(three.access), host: 'localhost:3001' } });
    const rows = ((await listed.json()) as { data: { sessions: Array<{ sid: string }> } }).data.sessions;
    expect(rows.map((r) => r.sid).sort()).toEqual([one, two, three].map((p) => sidOf(p.access)).sort());

    const ended = await b.request(`/admin/sessions/${sidOf(one.access)}`, {
      method: 'DELETE',
      headers: { ...bearer(three.access), host: 'localhost:3001' },
    });
    expect(ended.status).toBe(200);
    await pgStore(a).poll(); // what the feed would deliver on its own (timer, NOTIFY), now
    await expectErr(await validate(a, one.access), 403, 'Session has been revoked', 'token_revoked');
    expect((await validate(a, two.access)).status).toBe(200);

    const all = await b.post(
      '/admin/sessions/revoke-all',
      { keep_current: true },
      { ...bearer(three.access), host: 'localhost:3001' },
    );
    expect(all.status).toBe(200);
    await pgStore(a).poll();
    await expectErr(await validate(a, two.access), 403, 'Session has been revoked', 'token_revoked');
    expect((await validate(a, three.access)).status).toBe(200);
  });

  it('a refresh token is single-use across instances', async () => {
    const url = await createDatabase(sharedPgUrl(), 'svc_refresh');
    const clock = new ManualClock();
    const a = await instance(url, clock);
    const b = await instance(url, clock);
    const { access, refresh: refreshToken } = await a.login();
    clock.advanceSeconds(a.svc.config.jwt.access_token_expiry + a.svc.config.jwt.leeway_seconds + 1);

    const first = await refresh(b, access, refreshToken);
    expect(first.status).toBe(200);
    const pair = ((await first.json()) as { data: { access_token: string } }).data;
    // The same refresh token on the other instance: reuse, and the family ends everywhere.
    await expectErr(
      await refresh(a, access, refreshToken),
      401,
      'Refresh token reuse detected; re-authentication required',
      'token_reuse',
    );
    await expectErr(await validate(a, pair.access_token), 403, 'Session has been revoked', 'token_revoked');
    await expectErr(await validate(b, pair.access_token), 403, 'Session has been revoked', 'token_revoked');
  });

  it('rotation due on two instances at once happens once; both sign and verify with the new primary', async () => {
    const url = await createDatabase(sharedPgUrl(), 'svc_rotate');
    const clock = new ManualClock();
    const config: AuthConfigInput = { secrets: { rotation_interval_seconds: 3600, grace_period_seconds: 7200 } };
    const a = await instance(url, clock, config);
    const b = await instance(url, clock, config);
    const stored = async (key: string) => {
      const blob = await pgStore(a).get(key);
      if (blob === undefined) throw new Error(`${key} missing`);
      return openRecord(KEK_BYTES, key, blob).record;
    };
    const original = await stored(PRIMARY_KEY);
    const before = await a.login(); // signed by the original secret

    clock.advanceSeconds(3600);
    const rotated = await within(
      Promise.all([a.svc.core.secrets.rotateIfDue(), b.svc.core.secrets.rotateIfDue()]),
      10_000,
      'both rotations',
    );
    expect(rotated.filter(Boolean)).toHaveLength(1);

    // One rotation: the backup is the original primary (two would have demoted the first rotation's).
    const primary = await stored(PRIMARY_KEY);
    const backup = await stored(BACKUP_KEY);
    expect(primary.value).not.toBe(original.value);
    expect(primary.created_at).toBe(Math.floor(clock.nowMs() / 1000));
    expect(backup).toMatchObject({ value: original.value, is_primary: false, expires_at: original.expires_at });

    // Both instances hold the same primary (a MAC made with A's signing key verifies with B's).
    const data = new TextEncoder().encode('same primary?');
    const mac = await webcrypto.subtle.sign('HMAC', a.svc.core.secrets.signingKey(), data);
    expect(await webcrypto.subtle.verify('HMAC', b.svc.core.secrets.signingKey(), mac, data)).toBe(true);
    expect(b.svc.core.secrets.verifyKeys()).toHaveLength(2);
    expect(a.svc.core.secrets.verifyKeys()).toHaveLength(2);
    // Neither rotates again.
    expect(await a.svc.core.secrets.rotateIfDue()).toBe(false);
    expect(await b.svc.core.secrets.rotateIfDue()).toBe(false);

    // A token minted on A after the rotation validates on B, and the other way round.
    const after = await a.login();
    expect(after.res.status).toBe(200);
    expect((await validate(b, after.access)).status).toBe(200);
    const onB = await b.login();
    expect((await validate(a, onB.access)).status).toBe(200);
    // A refresh token signed before the rotation still works on B while the backup is in grace.
    const refreshed = await refresh(b, before.access, before.refresh);
    expect(refreshed.status).toBe(200);
  });

  it('PUT /admin/keys/:id/permissions for an unknown key is a 404 on a memory store (control for the next test)', async () => {
    const s = await makeTestService();
    made.push(s);
    const { access } = await s.login();
    const res = await s.request('/admin/keys/no-such-key/permissions', {
      method: 'PUT',
      headers: { ...bearer(access), 'content-type': 'application/json' },
      body: JSON.stringify({ add: ['keys:list'] }),
    });
    await expectErr(res, 404, 'Key not found');
  });

  // Regression: an AuthError thrown inside a locked section (here keyWriteLock → not_found) was
  // wrapped as a database outage and answered 503 instead of 404; the same held for every refusal
  // under accountLock/sessionLock.
  it('PUT /admin/keys/:id/permissions for an unknown key is a 404 on postgres too', async () => {
    const url = await createDatabase(sharedPgUrl(), 'svc_not_found');
    const s = await instance(url, new ManualClock());
    const { access } = await s.login();
    const res = await s.request('/admin/keys/no-such-key/permissions', {
      method: 'PUT',
      headers: { ...bearer(access), 'content-type': 'application/json' },
      body: JSON.stringify({ add: ['keys:list'] }),
    });
    await expectErr(res, 404, 'Key not found');
  });

  describe('with the database down', () => {
    let cluster: PgCluster;
    beforeAll(() => {
      cluster = startCluster();
    });
    afterAll(() => cluster?.destroy());

    it('answers 503 with Retry-After (never 500) while it is down, not ready listing storage, and works again after a restart', async () => {
      const url = await createDatabase(cluster.baseUrl, 'svc_down');
      const clock = new ManualClock();
      // The coherence clock is the test's: past the bound, no cached record answers.
      let feedNow = 0;
      const s = await instance(url, clock, {}, { nowMs: () => feedNow, coherenceBoundMs: 1_000, connectTimeoutMs: 2_000 });
      const expired = await s.login();
      clock.advanceSeconds(s.svc.config.jwt.access_token_expiry + s.svc.config.jwt.leeway_seconds + 1);
      const live = await s.login();
      expect(live.res.status).toBe(200);
      expect((await s.request('/admin/keys', { headers: bearer(live.access) })).status).toBe(200);
      expect((await s.request('/auth/ready')).status).toBe(200);

      const requests: Array<[string, () => Promise<Response>]> = [
        ['POST /auth/token', async () => (await s.login()).res],
        ['POST /auth/refresh', () => refresh(s, expired.access, expired.refresh)],
        ['GET /admin/keys', () => s.request('/admin/keys', { headers: bearer(live.access) })],
        ['GET /auth/validate', () => validate(s, live.access)],
        ['POST /auth/logout', () => s.post('/auth/logout', { refresh_token: live.refresh })],
      ];
      cluster.stop();
      try {
        // No wait for the pool to drop its dead idle connections: handing one out must fail that
        // request with a 503, not end the process.
        feedNow = 1_001; // no feed read can have succeeded since: incoherent, caches bypassed
        expect(pgStore(s).coherent()).toBe(false);
        for (const [what, send] of requests) await expectUnavailable(await send(), what);
        // Again: a failed attempt left nothing behind that turns the next one into a 500.
        for (const [what, send] of requests) await expectUnavailable(await send(), `${what} (again)`);
        const ready = await s.request('/auth/ready');
        await expectErr(ready, 503, 'Service not ready: storage');
      } finally {
        cluster.start();
      }

      await pgStore(s).poll();
      expect(pgStore(s).coherent()).toBe(true);
      const ready = await s.request('/auth/ready');
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { data: unknown }).data).toEqual({ status: 'ready', storage: true, secrets: true });
      expect((await validate(s, live.access)).status).toBe(200); // the logout during the outage did not land
      expect((await s.request('/admin/keys', { headers: bearer(live.access) })).status).toBe(200);
      const refreshed = await refresh(s, expired.access, expired.refresh);
      expect(refreshed.status).toBe(200); // the refresh during the outage did not consume the token
      const again = await s.login();
      expect(again.res.status).toBe(200);
      expect((await validate(s, again.access)).status).toBe(200);
      expect((await s.post('/auth/logout', { refresh_token: live.refresh })).status).toBe(200);
      await expectErr(await validate(s, live.access), 403, 'Session has been revoked', 'token_revoked');
    });
  });
});
