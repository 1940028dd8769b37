#!/usr/bin/env node
// Validate during a login flood with the service on a core of its own (issue 11): the service is
// pinned to CPU 0 and wrk (validate load and login load) to CPU 1, so what is measured is how the
// service shares its core between the event loop and argon2, not how it shares one with the load
// generator (bench/run.mjs measures that). Run once as shipped (server.threadpool_nice = 10) and
// once with the priority left alone (0). Figures only, never assertions. Linux, needs `taskset`
// and `wrk`, at least 2 cores, and `npm run build` first. BENCH_SECONDS per run (default 5),
// BENCH_ROUNDS (default 3).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from './free-port.mjs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchOf } from '../scripts/node-flags.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'dist', 'cli.js');
const PASSWORD = 'bench-password-123';

const has = (cmd) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
if (!existsSync(cli)) {
  console.error('bench/flood.mjs: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
if (process.platform !== 'linux' || !has('taskset') || !has('wrk') || availableParallelism() < 2) {
  console.log('\nvalidate during a login flood, service on its own core: skipped (needs Linux, taskset, wrk, 2 cores)');
  process.exit(0);
}

async function startService(work, port, nice) {
  const launch = launchOf(cli);
  const child = spawn('taskset', ['-c', '0', process.execPath, ...launch.flags, cli, '--bind', `127.0.0.1:${port}`], {
    cwd: work,
    env: {
      ...process.env,
      ...launch.env,
      AUTH__SERVER__THREADPOOL_NICE: String(nice),
      MERO_AUTH_ADMIN_USER: 'bench',
      MERO_AUTH_ADMIN_PASSWORD: PASSWORD,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  await new Promise((resolve, reject) => {
    let out = '';
    const onData = (d) => {
      out += d;
      if (/listening on/.test(out)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then((code) => reject(new Error(`service exited (${code}):\n${out}`)));
  });
  return { child, exited };
}

/** One wrk run on CPU 1: requests/s and p99 in ms (wrk prints microsecond resolution). */
function wrk(args) {
  return new Promise((resolve, reject) => {
    const p = spawn('taskset', ['-c', '1', 'wrk', '-t1', '--latency', `-d${SECONDS}s`, ...args]);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('exit', () => {
      const m = /99%\s+([\d.]+)(us|ms|s)\b/.exec(out);
      const p99 = m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : Number.NaN;
      resolve({ rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]), p99 });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(nice) {
  const work = mkdtempSync(join(tmpdir(), 'mero-auth-bench-flood-'));
  const port = await freePort();
  const svc = await startService(work, port, nice);
  try {
    const body = JSON.stringify({
      auth_method: 'user_password',
      public_key: 'bench',
      client_name: 'bench-flood',
      timestamp: Math.floor(Date.now() / 1000),
      provider_data: { username: 'bench', password: PASSWORD },
    });
    const res = await fetch(`http://127.0.0.1:${port}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const { data } = await res.json();
    if (!data?.access_token) throw new Error(`login failed: ${res.status}`);
    const script = join(work, 'login.lua');
    writeFileSync(script, `wrk.method = "POST"\nwrk.body = [[${body}]]\nwrk.headers["Content-Type"] = "application/json"\n`);
    const validate = ['-c10', '-H', `Authorization: Bearer ${data.access_token}`, `http://127.0.0.1:${port}/auth/validate`];
    const logins = ['-c8', '-s', script, `http://127.0.0.1:${port}/auth/token`];
    await wrk(['-d2s', ...validate]); // warm-up (the later -d wins)
    const quiet = [];
    const flooded = [];
    const loginRates = [];
    for (let round = 0; round < ROUNDS; round++) {
      quiet.push(await wrk(validate));
      const [v, l] = await Promise.all([wrk(validate), wrk(logins)]);
      flooded.push(v);
      loginRates.push(l.rps);
    }
    return {
      quiet: { rps: median(quiet.map((r) => r.rps)), p99: median(quiet.map((r) => r.p99)) },
      flooded: { rps: median(flooded.map((r) => r.rps)), p99: median(flooded.map((r) => r.p99)) },
      logins: median(loginRates),
    };
  } finally {
    svc.child.kill('SIGTERM');
    await svc.exited;
    rmSync(work, { recursive: true, force: true });
  }
}

const fmt = (r) => `${Math.round(r.rps).toLocaleString('en-US').padStart(7)} req/s   p99 ${r.p99.toFixed(2).padStart(6)} ms`;
console.log(`\nvalidate during a login flood, service pinned to CPU 0, wrk to CPU 1 — ${SECONDS}s per run, medians of ${ROUNDS}`);
for (const nice of [10, 0]) {
  const r = await measure(nice);
  const label = nice === 0 ? 'threadpool_nice 0 (left alone)' : `threadpool_nice ${nice} (default)  `;
  console.log(
    `${label}  quiet ${fmt(r.quiet)}   during 8 login conns ${fmt(r.flooded)}   (p99 ×${(r.flooded.p99 / r.quiet.p99).toFixed(2)}, ${((100 * r.flooded.rps) / r.quiet.rps).toFixed(1)} % of quiet; logins ${r.logins.toFixed(1)}/s)`,
  );
}
