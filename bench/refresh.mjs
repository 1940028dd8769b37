#!/usr/bin/env node
// Refresh throughput on LevelDB: starts the built service (`npm run build` first) on a temp
// directory with 1 s access tokens and no leeway, opens BENCH_SESSIONS sessions (client keys
// minted by the admin: one session each, no argon2 per session), waits until their access
// tokens have expired, then exchanges each session's pair once with 8 and then 20 concurrent
// connections (a fresh set of sessions for each). Prints refresh/s and p50/p99 latency; figures
// only, never assertions. BENCH_SESSIONS per run (default 4000), BENCH_ROUNDS runs per
// concurrency (default 3, the median by refresh/s is printed), BENCH_CONCURRENCY (default "8,20").
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { freePort } from './free-port.mjs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchOf } from '../scripts/node-flags.mjs';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 4000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '8,20').split(',').map(Number);
const root = new URL('..', import.meta.url).pathname;
const PASSWORD = 'bench-password-123';

function start(args, { env, cwd }) {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d) => {
      out += d;
      if (/listening on/.test(out)) resolve(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`process exited (${code}) before ready:\n${out}`)));
    setTimeout(() => reject(new Error(`not ready after 20 s:\n${out}`)), 20_000).unref();
  });
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** POST JSON over a keep-alive agent: { status, body }. */
function post(agent, port, path, body, headers = {}) {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function login(agent, port) {
  for (;;) {
    const r = await post(agent, port, '/auth/token', {
      auth_method: 'user_password',
      public_key: 'bench',
      client_name: 'bench',
      timestamp: Math.floor(Date.now() / 1000),
      provider_data: { username: 'bench', password: PASSWORD },
    });
    if (r.status === 200) return JSON.parse(r.body).data.access_token;
    if (r.status !== 503) throw new Error(`login failed: ${r.status} ${r.body}`);
  }
}

/** `n` client-key sessions; the admin's 1 s bearer is renewed by logging in again. */
async function prepare(agent, port, n) {
  const pairs = [];
  let bearer = await login(agent, port);
  let renewing;
  const renew = () =>
    (renewing ??= login(agent, port).then((t) => {
      bearer = t;
      renewing = undefined;
    }));
  const worker = async () => {
    while (pairs.length < n) {
      const used = bearer;
      const r = await post(agent, port, '/admin/client-key', {}, { authorization: `Bearer ${used}` });
      if (r.status === 200) {
        const { access_token, refresh_token } = JSON.parse(r.body).data;
        pairs.push({ access: access_token, refresh: refresh_token });
      } else if (r.status === 401 || r.status === 403) {
        if (used === bearer) await renew();
        else await renewing;
      } else throw new Error(`mint failed: ${r.status} ${r.body}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return pairs.slice(0, n);
}

async function refreshAll(agent, port, pairs, concurrency) {
  const latencies = [];
  let next = 0;
  let failed = 0;
  const worker = async () => {
    for (let i = next++; i < pairs.length; i = next++) {
      const t0 = performance.now();
      const r = await post(agent, port, '/auth/refresh', { access_token: pairs[i].access, refresh_token: pairs[i].refresh });
      latencies.push(performance.now() - t0);
      if (r.status !== 200) failed++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { rate: pairs.length / seconds, p50: pct(50), p99: pct(99), failed };
}

const work = mkdtempSync(join(tmpdir(), 'mero-auth-bench-refresh-'));
const results = [];
let svc;
try {
  const port = await freePort();
  const launch = launchOf(join(root, 'dist/cli.js'));
  svc = await start([...launch.flags, join(root, 'dist/cli.js'), '--bind', `127.0.0.1:${port}`], {
    cwd: work,
    env: {
      ...launch.env,
      MERO_AUTH_ADMIN_USER: 'bench',
      MERO_AUTH_ADMIN_PASSWORD: PASSWORD,
      AUTH__STORAGE__TYPE: 'level',
      AUTH__JWT__ACCESS_TOKEN_EXPIRY: '1',
      AUTH__JWT__LEEWAY_SECONDS: '0',
    },
  });
  for (const concurrency of LEVELS) {
    const agent = new Agent({ keepAlive: true, maxSockets: Math.max(concurrency, 8) });
    const runs = [];
    for (let round = 0; round < ROUNDS; round++) {
      const pairs = await prepare(agent, port, SESSIONS);
      await sleep(2_100); // every access token has expired (exp + 0 < now)
      runs.push(await refreshAll(agent, port, pairs, concurrency));
    }
    agent.destroy();
    runs.sort((a, b) => a.rate - b.rate);
    results.push([concurrency, runs[Math.floor(runs.length / 2)], runs]);
  }
} finally {
  if (svc) await stop(svc);
  rmSync(work, { recursive: true, force: true });
}

console.log(
  `\nmero-auth refresh bench (LevelDB) — ${SESSIONS} sessions per run, median of ${ROUNDS}, ${availableParallelism()} cores, node ${process.version}\n`,
);
const ms = (v) => `${v.toFixed(1).padStart(6)} ms`;
for (const [c, r, runs] of results) {
  console.log(
    `POST /auth/refresh, ${String(c).padStart(2)} conns  ${String(Math.round(r.rate)).padStart(6)} refresh/s   p50 ${ms(r.p50)}   p99 ${ms(r.p99)}   non-200 ${r.failed}   (runs: ${runs.map((x) => Math.round(x.rate)).join(', ')}/s)`,
  );
}
