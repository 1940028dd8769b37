/**
 * Several real `mero-auth` processes on one PostgreSQL database (storage.type = "postgres"):
 * sessions minted on one instance are honoured by the others, revocations reach every instance
 * within the coherence bound, the single-use refresh exchange is single-use across instances,
 * a password change ends sessions everywhere, acknowledged logins survive kill -9 of the
 * instance that acknowledged them, a database restart is ridden out (503, then recovery without
 * a restart of the service), the login rate limit is one budget for the whole cluster, and
 * instances starting together on an empty database migrate it once.
 *
 * Every test uses its own database on the run's shared cluster, except the database restart,
 * which stops and starts a cluster of its own.
 */
import { randomBytes } from 'node:crypto';
import { expect, it, onTestFinished } from 'vitest';
import { createDatabase, describeWithPostgres, sharedPgUrl, startCluster } from '../helpers/postgres.js';
import { login, pairOf, refresh, request, validate, waitUntilExpired, type Reply, type TokenPair } from './client.js';
import {
  ADMIN_USER,
  adminEnv,
  bearer,
  COHERENCE_BOUND_MS,
  eventually,
  expectValid,
  firstRefusal,
  keyIdOf,
  loginPair,
  provisionAccount,
  startNode,
  startNodes,
} from './cluster.js';
import { logMessage, type Service } from './process.js';

const newPassword = (tag: string) => `${tag}-${randomBytes(9).toString('base64url')}`;
const freshDb = () => createDatabase(sharedPgUrl(), 'cluster');
const round = (ms: number) => Math.round(ms);

describeWithPostgres('several instances on one PostgreSQL database', () => {
  it('a login on one instance validates on the others (two and three instances)', async () => {
    const password = newPassword('share');
    const [a, b, c] = (await startNodes(await freshDb(), 3, password)) as [Service, Service, Service];

    // Two instances: login on A, validate on B (and on A).
    const fromA = await loginPair(a, ADMIN_USER, password);
    await expectValid(b, fromA.access_token, 'A’s token on B');
    await expectValid(a, fromA.access_token, 'A’s token on A');

    // Three instances: a login on each validates on every other one, with the same X-Auth-User.
    const nodes = [a, b, c];
    const pairs = await Promise.all(nodes.map((n) => loginPair(n, ADMIN_USER, password)));
    const subject = keyIdOf(fromA.access_token);
    for (const [i, pair] of pairs.entries()) {
      expect(keyIdOf(pair.access_token)).toBe(subject);
      for (const [j, node] of nodes.entries()) {
        if (i !== j) await expectValid(node, pair.access_token, `token from instance ${i} on instance ${j}`);
      }
    }
  });

  it('a revocation on B reaches A within the coherence bound: logout, POST /admin/revoke, DELETE /admin/keys/:id', async () => {
    const password = newPassword('revoke');
    const [a, b] = (await startNodes(await freshDb(), 2, password)) as [Service, Service];
    const admin = await loginPair(b, ADMIN_USER, password);
    const delays: Record<string, number> = {};

    /** Warms A's caches with the token, runs the revocation on B, measures until A refuses. */
    const measure = async (what: string, pair: TokenPair, revokeOnB: () => Promise<Reply>) => {
      await expectValid(a, pair.access_token, `${what}: before, on A`);
      await expectValid(a, pair.access_token, `${what}: before, on A (cached)`);
      await expectValid(b, pair.access_token, `${what}: before, on B`);
      const ack = await revokeOnB();
      const ackAt = performance.now();
      expect(ack.status, `${what}: ${ack.text}`).toBe(200);
      const refused = await firstRefusal(a, pair.access_token, ackAt);
      expect(refused.reply.status, `${what}: ${refused.reply.text}`).toBe(403);
      expect(refused.reply.headers.get('x-auth-error')).toBe('token_revoked');
      delays[what] = round(refused.delayMs);
      console.log(`[cluster] ${what}: A refused ${round(refused.delayMs)} ms after B acknowledged (${refused.tries} tries)`);
      // B, which made the write, refuses at once.
      const onB = await validate(b.url, pair.access_token);
      expect(onB.status).toBe(403);
      expect(onB.headers.get('x-auth-error')).toBe('token_revoked');
    };

    // 1. Sign-out of one session on B.
    const session = await loginPair(a, ADMIN_USER, password);
    await measure('logout', session, () =>
      request(`${b.url}/auth/logout`, { headers: bearer(session.access_token), body: { refresh_token: session.refresh_token } }),
    );
    // The account itself is untouched: the admin's other session still validates on A.
    await expectValid(a, admin.access_token, 'the admin’s other session after the logout');

    // 2. POST /admin/revoke of a second account's key, on B.
    const bobPassword = newPassword('bob');
    expect((await provisionAccount(b, admin.access_token, 'bob', bobPassword)).status).toBe(200);
    const bob = await loginPair(a, 'bob', bobPassword);
    await measure('POST /admin/revoke', bob, () =>
      request(`${b.url}/admin/revoke`, { headers: bearer(admin.access_token), body: { client_id: keyIdOf(bob.access_token) } }),
    );

    // 3. DELETE /admin/keys/:key_id of a third account's key, on B.
    const carolPassword = newPassword('carol');
    expect((await provisionAccount(b, admin.access_token, 'carol', carolPassword)).status).toBe(200);
    const carol = await loginPair(a, 'carol', carolPassword);
    await measure('DELETE /admin/keys/:key_id', carol, async () => {
      const reply = await request(`${b.url}/admin/keys/${keyIdOf(carol.access_token)}`, {
        method: 'DELETE',
        headers: bearer(admin.access_token),
      });
      expect(reply.json?.data?.key_id, reply.text).toBe(keyIdOf(carol.access_token));
      return reply;
    });
    console.log(`[cluster] revocation propagation B → A (coherence bound ${COHERENCE_BOUND_MS} ms): ${JSON.stringify(delays)}`);
  });

  it('20 concurrent refreshes of one pair over A and B: exactly one 200, the rest refused, the session ends', async () => {
    const password = newPassword('refresh');
    // 1 s access tokens, no leeway (FAST_ENV), so the pair can be refreshed a second after login.
    const [a, b] = (await startNodes(await freshDb(), 2, password, { AUTH__JWT__ACCESS_TOKEN_EXPIRY: '1' })) as [
      Service,
      Service,
    ];
    const pair = await loginPair(a, ADMIN_USER, password);
    await expectValid(b, pair.access_token, 'before the refresh, on B');
    const expired = await waitUntilExpired(a.url, pair.access_token);
    expect(expired.headers.get('x-auth-error')).toBe('token_expired');
    await waitUntilExpired(b.url, pair.access_token);

    const nodes = [a, b];
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => refresh((nodes[i % 2] as Service).url, pair.access_token, pair.refresh_token)),
    );
    const summary = replies.map((r) => `${r.status}${r.headers.get('x-auth-error') ? ` ${r.headers.get('x-auth-error')}` : ''}`);
    console.log(`[cluster] 20 concurrent refreshes over A and B: ${JSON.stringify(tally(summary))}`);

    const winners = replies.filter((r) => r.status === 200);
    expect(winners.length, summary.join(', ')).toBe(1);
    // The losers: 401 token_reuse for those that reached the exchange after the winner (at least
    // one does: the first loser to take the session lock finds the session live), 403
    // token_revoked for those that found the session already revoked by a reuse.
    for (const r of replies.filter((x) => x.status !== 200)) {
      expect([`401 token_reuse`, `403 token_revoked`]).toContain(`${r.status} ${r.headers.get('x-auth-error')}`);
    }
    expect(replies.some((r) => r.status === 401 && r.headers.get('x-auth-error') === 'token_reuse')).toBe(true);

    // Reuse ended the family: the winner's pair is dead on both instances…
    const successor = pairOf(winners[0] as Reply);
    for (const node of nodes) {
      const refused = await firstRefusal(node, successor.access_token, performance.now());
      expect(refused.reply.status, refused.reply.text).toBe(403);
      expect(refused.reply.headers.get('x-auth-error')).toBe('token_revoked');
    }
    const successorRefresh = await eventually(async () => {
      const r = await refresh(b.url, successor.access_token, successor.refresh_token);
      return r.status === 401 && r.text.includes('Access token still valid') ? undefined : r;
    }, 'the successor access token to expire');
    expect(successorRefresh.status, successorRefresh.text).toBe(403);
    expect(successorRefresh.headers.get('x-auth-error')).toBe('token_revoked');
    // …and the root key survives (reuse never revokes a root key): a new login works everywhere.
    const again = await loginPair(b, ADMIN_USER, password);
    await expectValid(a, again.access_token, 'a fresh login after the reuse');
  });

  it('a password change on A ends the account’s sessions on B', async () => {
    const password = newPassword('admin');
    const [a, b] = (await startNodes(await freshDb(), 2, password)) as [Service, Service];
    const admin = await loginPair(a, ADMIN_USER, password);
    const oldPassword = newPassword('dave-old');
    const created = await provisionAccount(a, admin.access_token, 'dave', oldPassword);
    expect(created.json, created.text).toEqual({ data: { status: true, message: 'Key was created' }, error: null });

    const onB = await loginPair(b, 'dave', oldPassword);
    const onA = await loginPair(a, 'dave', oldPassword);
    await expectValid(b, onB.access_token, 'dave on B before');
    await expectValid(b, onA.access_token, 'dave (A’s login) on B before');

    const newPass = newPassword('dave-new');
    const changed = await provisionAccount(a, admin.access_token, 'dave', newPass);
    const ackAt = performance.now();
    expect(changed.json, changed.text).toEqual({ data: { status: true, message: 'Key was updated' }, error: null });
    for (const [what, pair] of [
      ['B’s own login', onB],
      ['A’s login', onA],
    ] as const) {
      const refused = await firstRefusal(b, pair.access_token, ackAt);
      expect(refused.reply.status, `${what}: ${refused.reply.text}`).toBe(403);
      expect(refused.reply.headers.get('x-auth-error')).toBe('token_revoked');
      console.log(`[cluster] password change on A → B refuses ${what} after ${round(refused.delayMs)} ms`);
    }
    // The old password is refused on B, the new one works there and the key id is kept.
    const old = await login(b.url, 'dave', oldPassword);
    expect(old.status, old.text).toBe(401);
    const fresh = await loginPair(b, 'dave', newPass);
    expect(keyIdOf(fresh.access_token)).toBe(keyIdOf(onB.access_token));
    await expectValid(a, fresh.access_token, 'dave’s new session on A');
    // The admin's own session is not touched.
    await expectValid(b, admin.access_token, 'the admin after dave’s password change');
  });

  it('kill -9 of an instance while it acknowledges logins: every acknowledged login validates on B; A restarts and serves', async () => {
    const password = newPassword('kill');
    const db = await freshDb();
    const [a, b] = (await startNodes(db, 2, password)) as [Service, Service];

    // Four clients log in on A in a loop; A is killed once enough logins were acknowledged,
    // with requests still in flight.
    const acknowledged: TokenPair[] = [];
    let failedInFlight = 0;
    let stop = false;
    const client = async () => {
      while (!stop) {
        let reply: Reply;
        try {
          reply = await login(a.url, ADMIN_USER, password);
        } catch {
          failedInFlight += 1; // the connection died with the process: nothing was acknowledged
          return;
        }
        if (reply.status === 200) acknowledged.push(pairOf(reply));
        else throw new Error(`login on A answered ${reply.status} ${reply.text} before the kill`);
      }
    };
    const clients = Array.from({ length: 4 }, client);
    await eventually(async () => (acknowledged.length >= 12 ? true : undefined), '12 acknowledged logins on A', {
      intervalMs: 5,
    });
    expect(await a.kill9()).toEqual({ code: null, signal: 'SIGKILL' });
    stop = true;
    await Promise.all(clients);
    console.log(`[cluster] kill -9: ${acknowledged.length} logins acknowledged by A, ${failedInFlight} in flight cut off`);

    for (const [i, pair] of acknowledged.entries()) await expectValid(b, pair.access_token, `acknowledged login #${i} on B`);

    // A again, same database, no admin variables: it serves the old sessions and new logins.
    const again = await startNode(db);
    expect(again.stderr).not.toContain('no account exists');
    for (const pair of acknowledged) await expectValid(again, pair.access_token, 'an acknowledged login on the restarted A');
    const fresh = await loginPair(again, ADMIN_USER, password);
    await expectValid(b, fresh.access_token, 'a login on the restarted A, on B');
    expect((await request(`${again.url}/auth/ready`)).status).toBe(200);
  });

  it('a database restart: 503 (never 500) while it is down, the processes stay up, and recover by themselves', async () => {
    const cluster = startCluster();
    onTestFinished(() => cluster.destroy());
    const db = await createDatabase(cluster.baseUrl, 'cluster_restart');
    const password = newPassword('restart');
    // A issues 60 s access tokens, B 1 s ones: B's pair can be refreshed during the outage, A's
    // stays valid for the session probes (the expiry is the issuer's; both verify either).
    const a = await startNode(db, adminEnv(password));
    const b = await startNode(db, { AUTH__JWT__ACCESS_TOKEN_EXPIRY: '1' });
    const before = await loginPair(a, ADMIN_USER, password);
    const short = await loginPair(b, ADMIN_USER, password);
    for (const node of [a, b]) {
      await expectValid(node, before.access_token, 'before the outage'); // cached on both
      expect((await request(`${node.url}/admin/keys`, { headers: bearer(before.access_token) })).status).toBe(200);
    }
    await waitUntilExpired(b.url, short.access_token);

    cluster.stop();
    const stoppedAt = performance.now();
    const seen: string[] = [];
    const note = (what: string, r: Reply): Reply => {
      seen.push(`${what} ${r.status}${r.headers.get('x-auth-error') ? ` ${r.headers.get('x-auth-error')}` : ''}`);
      expect(r.status, `${what} during the outage: ${r.text}`).not.toBe(500);
      return r;
    };
    const expectUnavailable = (what: string, r: Reply) => {
      note(what, r);
      expect(r.status, `${what} during the outage: ${r.status} ${r.headers.get('x-auth-error')} ${r.text}`).toBe(503);
      expect(r.headers.get('retry-after'), what).toBe('1');
      expect(r.json, what).toEqual({ data: null, error: 'Service temporarily unavailable: the database cannot be reached' });
    };
    for (const node of [a, b]) {
      // Login needs the database (the pool may take a moment to notice, hence the wait).
      const down = await eventually(async () => {
        const r = note('login', await login(node.url, ADMIN_USER, password));
        return r.status === 503 ? r : undefined;
      }, `a 503 from login on ${node.url}`);
      expectUnavailable('login', down);
      const ready = note('ready', await request(`${node.url}/auth/ready`));
      expect(ready.status).toBe(503);
      expect(ready.json).toEqual({ data: null, error: 'Service not ready: storage' });
      expectUnavailable('refresh', await refresh(node.url, short.access_token, short.refresh_token));
      expectUnavailable('logout', await request(`${node.url}/auth/logout`, { body: { refresh_token: before.refresh_token } }));
    }
    // Past the coherence bound without a feed read, a token seen before is no longer answered
    // from cache: validate needs the database too.
    for (const node of [a, b]) {
      const refused = await firstRefusal(node, before.access_token, stoppedAt);
      console.log(
        `[cluster] database down: ${node === a ? 'A' : 'B'} stopped answering validate from cache ` +
          `${round(refused.delayMs)} ms after the stop returned`,
      );
      expectUnavailable('validate', refused.reply);
    }
    // So does every /admin route's bearer check (both instances are past the bound now): a
    // client must not be told its good token is invalid because the database is down.
    for (const node of [a, b]) {
      expectUnavailable('GET /admin/keys', await request(`${node.url}/admin/keys`, { headers: bearer(before.access_token) }));
    }
    expect(a.alive, a.describe()).toBe(true);
    expect(b.alive, b.describe()).toBe(true);
    console.log(`[cluster] answers during the outage: ${JSON.stringify(tally(seen))}`);

    cluster.start();
    const restartedAt = performance.now();
    // Both recover without a restart: login, validate across instances, readiness, the feed.
    const [fromA, fromB] = (await Promise.all(
      [a, b].map((node) =>
        eventually(
          async () => {
            const r = note('login', await login(node.url, ADMIN_USER, password));
            return r.status === 200 ? pairOf(r) : undefined;
          },
          `login on ${node.url} after the database came back`,
          { timeoutMs: 15_000 },
        ),
      ),
    )) as [TokenPair, TokenPair];
    console.log(
      `[cluster] database back: logins on both instances work ${round(performance.now() - restartedAt)} ms after the start returned`,
    );
    await expectValid(b, fromA.access_token, 'A’s new login on B after the restart');
    await expectValid(a, fromB.access_token, 'B’s new login on A after the restart');
    await expectValid(b, before.access_token, 'a session from before the outage, on B');
    for (const node of [a, b]) {
      expect((await request(`${node.url}/auth/ready`)).status).toBe(200);
      expect((await request(`${node.url}/admin/keys`, { headers: bearer(fromA.access_token) })).status).toBe(200);
    }
    await expectValid(a, before.access_token, 'a session from before the outage, on A (cached again)');
    // The change feed works again: a logout on B reaches A within the bound.
    const out = await request(`${b.url}/auth/logout`, { body: { refresh_token: before.refresh_token } });
    const ackAt = performance.now();
    expect(out.status, out.text).toBe(200);
    const refused = await firstRefusal(a, before.access_token, ackAt);
    expect(refused.reply.status, refused.reply.text).toBe(403);
    expect(refused.reply.headers.get('x-auth-error')).toBe('token_revoked');
    console.log(`[cluster] after the database restart: logout on B → A refuses after ${round(refused.delayMs)} ms`);
    expect(a.alive && b.alive).toBe(true);
  });

  it('the login rate limit is one budget for the cluster: 5 failures over A and B, then 429 on both', async () => {
    const password = newPassword('limit');
    const [a, b] = (await startNodes(await freshDb(), 2, password, {
      AUTH__RATE_LIMIT__MAX_FAILURES: '5',
      // The address bucket (every test request comes from 127.0.0.1) stays out of the way.
      AUTH__RATE_LIMIT__PER_ADDRESS_MAX_FAILURES: '1000',
    })) as [Service, Service];

    // Sequential: 3 failures on A, 2 on B — each instance alone is below 5.
    for (let i = 0; i < 5; i++) {
      const node = i % 2 === 0 ? a : b;
      const r = await login(node.url, ADMIN_USER, 'wrong-password');
      expect(r.status, `failure #${i + 1} on ${node.url}: ${r.text}`).toBe(401);
    }
    for (const node of [a, b]) {
      const r = await login(node.url, ADMIN_USER, 'wrong-password');
      expect(r.status, r.text).toBe(429);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // The right password is refused too while the bucket is locked.
      expect((await login(node.url, ADMIN_USER, password)).status).toBe(429);
    }

    // Concurrent: 12 guesses at another identity at once, half on each instance. Attempts in
    // flight count against the budget, so at most 5 are ever checked (401); the rest are 429
    // (or 503 when the hashing slots are busy, which is not an attempt).
    const guesses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => login((i % 2 === 0 ? a : b).url, 'mallory', `guess-${i}`)),
    );
    const statuses = guesses.map((r) => r.status);
    console.log(`[cluster] 12 concurrent wrong logins over A and B: ${JSON.stringify(tally(statuses.map(String)))}`);
    for (const s of statuses) expect([401, 429, 503]).toContain(s);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    for (const node of [a, b]) expect((await login(node.url, 'mallory', 'one-more')).status).toBe(429);
  });

  it('two instances starting at once on an empty database both come up; the schema is migrated once', async () => {
    const db = await freshDb();
    const password = newPassword('together');
    // Both with the admin variables: whichever provisions second finds the account and leaves it.
    const [a, b] = (await Promise.all([startNode(db, adminEnv(password)), startNode(db, adminEnv(password))])) as [
      Service,
      Service,
    ];
    const migrations = [a, b].flatMap((n) =>
      n.stderrLines.map(logMessage).filter((m) => m?.startsWith('postgres: schema migrated')),
    );
    expect(migrations).toEqual(['postgres: schema migrated to version 1']);

    for (const node of [a, b]) expect((await request(`${node.url}/auth/ready`)).status).toBe(200);
    const fromA = await loginPair(a, ADMIN_USER, password);
    const fromB = await loginPair(b, ADMIN_USER, password);
    // One signing secret and one account for both.
    await expectValid(b, fromA.access_token, 'A’s token on B');
    await expectValid(a, fromB.access_token, 'B’s token on A');
    expect(keyIdOf(fromA.access_token)).toBe(keyIdOf(fromB.access_token));
    const keys = await request(`${b.url}/admin/keys`, { headers: bearer(fromA.access_token) });
    expect(keys.status, keys.text).toBe(200);
    expect((keys.json.data as unknown[]).length).toBe(1);
  });
});

function tally(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
