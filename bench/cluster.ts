// npm run bench, second part: two instances on one PostgreSQL database (a throwaway cluster
// started here with initdb/pg_ctl) beside a single-instance level service, in one run.
// Prints validate req/s per instance against level, refresh/s across both instances, and how
// long a revocation acknowledged by A takes to be refused by B (p50/p99). Numbers only.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from './free-port.mjs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchOf } from '../scripts/node-flags.mjs';
import autocannon from 'autocannon';
import { createDatabase, postgresMissing, startCluster } from '../test/helpers/pg-cluster.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SESSIONS = Number(process.env.BENCH_REFRESH_SESSIONS ?? 3000);
const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 200);
const root = new URL('..', import.meta.url).pathname;
const PASSWORD = 'bench-password-123';

interface Instance {
  url: string;
  child: ChildProcess;
}

async function startService(env: Record<string, string>, cwd: string): Promise<Instance> {
  const port = await freePort();
  const launch = launchOf(join(root, 'dist/cli.js'));
  const child = spawn(process.execPath, [...launch.flags, join(root, 'dist/cli.js'), '--bind', `127.0.0.1:${port}`], {
    cwd,
    env: { ...process.env, ...launch.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (/listening on/.test(out)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`process exited (${code}) before ready:\n${out}`)));
    setTimeout(() => reject(new Error(`not ready after 20 s:\n${out}`)), 20_000).unref();
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

async function stopService(i: Instance): Promise<void> {
  if (i.child.exitCode !== null) return;
  const exited = new Promise((r) => i.child.once('exit', r));
  i.child.kill('SIGTERM');
  await exited;
}

function cannon(opts: Record<string, unknown>): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration: SECONDS, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

async function post(url: string, body: unknown, token?: string): Promise<{ status: number; data: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as { data?: unknown };
  return { status: res.status, data: json.data };
}

async function login(base: string): Promise<{ access_token: string; refresh_token: string }> {
  const r = await post(`${base}/auth/token`, {
    auth_method: 'user_password',
    public_key: 'bench',
    client_name: 'mero-js-sdk',
    timestamp: 0,
    provider_data: { username: 'bench', password: PASSWORD },
  });
  if (r.status !== 200) throw new Error(`login failed: ${r.status}`);
  return r.data;
}

/** A client key with its own session: no password hashing, so thousands are quick to make. */
async function mint(base: string, admin: string): Promise<{ access_token: string; refresh_token: string }> {
  const r = await post(`${base}/admin/client-key`, { context_id: '', context_identity: '', permissions: [] }, admin);
  if (r.status !== 200) throw new Error(`client-key mint failed: ${r.status}`);
  return r.data;
}

async function validateStatus(base: string, token: string): Promise<number> {
  const res = await fetch(`${base}/auth/validate`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

const rate = (r: autocannon.Result) => Math.round(r.requests.average);
const fmt = (n: number) => n.toLocaleString('en-US').padStart(8);
const pctl = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  const missing = postgresMissing();
  if (missing !== undefined) {
    console.log(`\ntwo instances on PostgreSQL: skipped (${missing})`);
    return;
  }
  const cluster = startCluster();
  const work = mkdtempSync(join(tmpdir(), 'mero-auth-bench-cluster-'));
  const instances: Instance[] = [];
  try {
    const dbUrl = await createDatabase(cluster.baseUrl, 'bench');
    const admin = { MERO_AUTH_ADMIN_USER: 'bench', MERO_AUTH_ADMIN_PASSWORD: PASSWORD };
    const level = await startService(admin, work);
    instances.push(level);
    // 1 s access tokens and no leeway, so minted pairs can be refreshed a second later.
    const shared = {
      ...admin,
      AUTH__STORAGE__TYPE: 'postgres',
      AUTH__STORAGE__URL: dbUrl,
      MERO_AUTH_SECRET_KEK: 'bench-kek',
      AUTH__JWT__ACCESS_TOKEN_EXPIRY: '1',
      AUTH__JWT__LEEWAY_SECONDS: '0',
    };
    const a = await startService(shared, work);
    instances.push(a);
    const b = await startService(shared, work);
    instances.push(b);

    // Validate: the same cached request on the level instance, on A alone, then on A and B at once.
    const levelToken = (await login(level.url)).access_token;
    // A and B mint 1 s access tokens; a long-lived admin token for the runs and the mints comes
    // from a third, short-lived instance on the same database with the default expiry.
    const longLived = await startService({ ...shared, AUTH__JWT__ACCESS_TOKEN_EXPIRY: '3600' }, work);
    instances.push(longLived);
    const pgToken = (await login(longLived.url)).access_token;
    await stopService(longLived);
    const validateOn = async (base: string, token: string) =>
      cannon({ url: `${base}/auth/validate`, headers: { authorization: `Bearer ${token}` } });
    await validateOn(level.url, levelToken);
    const levelRun = await validateOn(level.url, levelToken);
    await validateOn(a.url, pgToken);
    const aAlone = await validateOn(a.url, pgToken);
    const [aBoth, bBoth] = await Promise.all([
      cannon({
        url: `${a.url}/auth/validate`,
        headers: { authorization: `Bearer ${pgToken}` },
        connections: Math.ceil(CONNECTIONS / 2),
      }),
      cannon({
        url: `${b.url}/auth/validate`,
        headers: { authorization: `Bearer ${pgToken}` },
        connections: Math.ceil(CONNECTIONS / 2),
      }),
    ]);

    // Refresh: SESSIONS client-key sessions minted on A, refreshed once each over A and B.
    const pairs: Array<{ access_token: string; refresh_token: string }> = [];
    const mintWorkers = Array.from({ length: 16 }, async () => {
      while (pairs.length < SESSIONS) pairs.push(await mint(a.url, pgToken));
    });
    await Promise.all(mintWorkers);
    await new Promise((r) => setTimeout(r, 1_100)); // let every access token expire
    const statuses = new Map<number, number>();
    let next = 0;
    const refreshStarted = performance.now();
    const refreshWorkers = Array.from({ length: 20 }, async (_, w) => {
      for (let i = next++; i < pairs.length; i = next++) {
        const p = pairs[i] as { access_token: string; refresh_token: string };
        const base = (i + w) % 2 === 0 ? a.url : b.url;
        const r = await post(`${base}/auth/refresh`, { access_token: p.access_token, refresh_token: p.refresh_token });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
    });
    await Promise.all(refreshWorkers);
    const refreshSeconds = (performance.now() - refreshStarted) / 1000;
    const refreshRate = Math.round(pairs.length / refreshSeconds);

    // Propagation: B has the session cached (a 200), A ends it, B is polled until it refuses.
    const delays: number[] = [];
    for (let i = 0; i < REVOCATIONS; i++) {
      const pair = await mint(a.url, pgToken);
      if ((await validateStatus(b.url, pair.access_token)) !== 200) throw new Error('B does not accept A’s token');
      const r = await post(`${a.url}/auth/logout`, { refresh_token: pair.refresh_token }, pair.access_token);
      if (r.status !== 200) throw new Error(`logout failed: ${r.status}`);
      const acked = performance.now();
      for (;;) {
        const s = await validateStatus(b.url, pair.access_token);
        if (s === 403) break;
        if (performance.now() - acked > 5_000) throw new Error('B still accepts a revoked session after 5 s');
      }
      delays.push(performance.now() - acked);
    }
    delays.sort((x, y) => x - y);

    console.log(
      `\nmero-auth bench, two instances on PostgreSQL ${cluster.baseUrl.split(':').pop()} — ${SECONDS}s per run, ${CONNECTIONS} connections, ${availableParallelism()} cores\n`,
    );
    console.log(
      `GET /auth/validate, single instance on level             ${fmt(rate(levelRun))} req/s   p99 ${levelRun.latency.p99} ms`,
    );
    console.log(
      `GET /auth/validate, instance A on postgres, alone        ${fmt(rate(aAlone))} req/s   p99 ${aAlone.latency.p99} ms   (${((rate(aAlone) / rate(levelRun)) * 100).toFixed(1)}% of level)`,
    );
    console.log(
      `GET /auth/validate, A and B at once (${Math.ceil(CONNECTIONS / 2)} conns each)      ${fmt(rate(aBoth))} + ${fmt(rate(bBoth)).trim()} = ${(rate(aBoth) + rate(bBoth)).toLocaleString('en-US')} req/s   p99 ${aBoth.latency.p99}/${bBoth.latency.p99} ms`,
    );
    console.log(
      `POST /auth/refresh over A and B (20 conns, ${pairs.length} sessions)  ${fmt(refreshRate)} refresh/s   statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    console.log(
      `revocation on A refused by B (${REVOCATIONS} logouts)           p50 ${pctl(delays, 0.5).toFixed(1)} ms   p99 ${pctl(delays, 0.99).toFixed(1)} ms   max ${(delays[delays.length - 1] ?? NaN).toFixed(1)} ms`,
    );
    console.log(`(validate non-2xx: level ${levelRun.non2xx}, A ${aAlone.non2xx}, A+B ${aBoth.non2xx + bBoth.non2xx})`);
  } finally {
    for (const i of instances) await stopService(i).catch(() => undefined);
    cluster.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
