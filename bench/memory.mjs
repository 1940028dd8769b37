#!/usr/bin/env node
// Memory and start-up with many sessions (issue 11): seeds BENCH_SESSIONS live sessions (default
// 100,000) plus BENCH_EXPIRED expired ones (default 20,000, so the start-up sweep has work and
// logs when it is done) into a LevelDB data directory, starts the real built CLI on it and prints
// time-to-ready, RSS after start, after the sweep, and after every live session was touched once
// by a GET /auth/validate. Figures only, never assertions. Needs `npm run build` first.
//
// Records are written with the built modules (dist/), so they are exactly what the service
// writes: SessionManager.openOps for sessions, the service's own signing secret (unsealed with
// the same MERO_AUTH_SECRET_KEK) for the access tokens. Linux only (RSS from /proc).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { freePort } from './free-port.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchOf } from '../scripts/node-flags.mjs';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 100_000);
const EXPIRED = Number(process.env.BENCH_EXPIRED ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONNECTIONS ?? 32);
const root = new URL('..', import.meta.url).pathname;
const dist = (p) => join(root, 'dist', p);
if (!existsSync(dist('cli.js'))) {
  console.error('bench/memory.mjs: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
const { LevelStore } = await import(dist('storage/level.js'));
const { SecretManager } = await import(dist('secrets/manager.js'));
const { SessionManager } = await import(dist('tokens/sessions.js'));
const { signClaims } = await import(dist('tokens/mint.js'));
const { encodeJson } = await import(dist('storage/store.js'));

const KEK = 'bench-memory-kek';
const PASSWORD = 'bench-password-123';

// Loaded into the measured service: on SIGUSR2 it collects garbage and prints the heap figures,
// so what is live can be told apart from what the heap or the allocator merely keeps.
const PROBE = `data:text/javascript,${encodeURIComponent(
  // biome-ignore lint/suspicious/noTemplateCurlyInString: this string is JavaScript source whose template literal runs in the probed process
  "let n = 0; process.on('SIGUSR2', () => { globalThis.gc(); process.stderr.write(`MEMPROBE#${++n} ${JSON.stringify(process.memoryUsage())}\\n`); });",
)}`;

/** Starts the CLI; `waitFor(re)` resolves once its log output matches. */
function startService(work, port, env = {}, probe = false) {
  const flags = probe ? ['--expose-gc', '--import', PROBE] : [];
  const launch = launchOf(dist('cli.js'));
  const child = spawn(process.execPath, [...launch.flags, ...flags, dist('cli.js'), '--bind', `127.0.0.1:${port}`], {
    cwd: work,
    env: { ...process.env, ...launch.env, MERO_AUTH_SECRET_KEK: KEK, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = [];
  const onData = (d) => {
    out += d;
    for (const w of [...waiters]) {
      if (w.re.test(out)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise((r) => child.once('exit', r));
  const waitFor = (re, ms = 60_000) =>
    new Promise((resolve, reject) => {
      if (re.test(out)) return resolve();
      waiters.push({ re, resolve });
      exited.then((code) => reject(new Error(`service exited (${code}):\n${out}`)));
      setTimeout(() => reject(new Error(`no ${re} after ${ms} ms:\n${out}`)), ms).unref();
    });
  let probes = 0;
  /** Live heap after a full GC (MB); call after reading RSS, since it changes it. */
  const probeHeap = async () => {
    const n = ++probes;
    const re = new RegExp(`MEMPROBE#${n} (\\{.*\\})`);
    child.kill('SIGUSR2');
    await waitFor(re);
    const m = JSON.parse(re.exec(out)[1]);
    return { heapUsed: m.heapUsed / 1048576, heapTotal: m.heapTotal / 1048576, external: m.external / 1048576 };
  };
  return { child, waitFor, exited, output: () => out, probeHeap };
}

async function stop(svc) {
  if (svc.child.exitCode !== null) return;
  svc.child.kill('SIGTERM');
  await svc.exited;
}

/** Resident and peak resident set of a process, in MB (Linux). */
function rss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  // RssFile is mostly LevelDB's memory-mapped table files: page cache the kernel can drop, unlike
  // RssAnon (heap, allocator arenas, LevelDB's block cache).
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024, anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024 };
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds (user + system, every thread) a process has used so far (Linux). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 on
  return (Number(fields[14 - 3]) + Number(fields[15 - 3])) / CLK_TCK;
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function get(port, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end();
  });
}

async function health(port) {
  try {
    return (await get(port, '/auth/health')) === 200;
  } catch {
    return false;
  }
}

const mb = (n) => `${n.toFixed(0).padStart(5)} MB`;
const split = (r) => `anon ${mb(r.anon).trim()} + file-backed ${mb(r.file).trim()}`;
const work = mkdtempSync(join(tmpdir(), 'mero-auth-bench-memory-'));
const lines = [];
try {
  // 1. A first start creates the store, the signing secret and the admin account; one login
  // gives the root key id and the claims the service puts in an access token.
  let port = await freePort();
  let svc = startService(work, port, { MERO_AUTH_ADMIN_USER: 'bench', MERO_AUTH_ADMIN_PASSWORD: PASSWORD });
  await svc.waitFor(/listening on/);
  const login = await fetch(`http://127.0.0.1:${port}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth_method: 'user_password',
      public_key: 'bench',
      client_name: 'bench-memory',
      timestamp: Math.floor(Date.now() / 1000),
      provider_data: { username: 'bench', password: PASSWORD },
    }),
  });
  const { data } = await login.json();
  if (!data?.access_token) throw new Error(`login failed: ${login.status}`);
  const template = JSON.parse(Buffer.from(data.access_token.split('.')[1], 'base64url').toString('utf8'));
  await stop(svc);

  // 2. Seed the sessions and mint one access token for each live one.
  const seedStarted = performance.now();
  const store = await LevelStore.open(join(work, 'data/auth'));
  const secrets = await SecretManager.load({
    store,
    kek: new Uint8Array(createHash('sha256').update(KEK, 'utf8').digest()),
    clock: { nowMs: () => Date.now() },
    rotationIntervalSeconds: 2_592_000,
    gracePeriodSeconds: 5_184_000,
  });
  const sessions = new SessionManager(store);
  const now = Math.floor(Date.now() / 1000);
  const tokens = [];
  let ops = [];
  const flush = async () => {
    if (ops.length > 0) await store.batch(ops);
    ops = [];
  };
  for (let i = 0; i < SESSIONS + EXPIRED; i++) {
    const live = i < SESSIONS;
    const at = live ? now : now - 90 * 86_400;
    const opened = sessions.openOps(template.sub, at + 30 * 86_400, at);
    ops.push(...opened.ops);
    if (live) {
      const claims = { ...template, iat: now, exp: now + 1800, jti: crypto.randomUUID(), sid: opened.sid };
      tokens.push(await signClaims(claims, secrets));
    } else {
      // An expired consumed-refresh marker per expired session: the sweep deletes those too.
      ops.push({
        type: 'put',
        key: `system:refresh:consumed:${crypto.randomUUID()}`,
        value: encodeJson({ exp: at, sid: opened.sid, consumed_at: at, successor: {} }),
      });
    }
    if (ops.length >= 2_000) await flush();
  }
  await flush();
  await store.close();
  const seedSeconds = (performance.now() - seedStarted) / 1000;

  // 3. Start on the seeded store: ready = answering /auth/health.
  port = await freePort();
  const spawnedAt = performance.now();
  svc = startService(work, port, {}, true);
  while (!(await health(port))) {
    if (svc.child.exitCode !== null) throw new Error(`service exited:\n${svc.output()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const readyMs = performance.now() - spawnedAt;
  const afterStart = rss(svc.child.pid);
  await svc.waitFor(/swept expired records/);
  const sweptMs = performance.now() - spawnedAt;
  const afterSweep = rss(svc.child.pid);
  const heapAfterSweep = await svc.probeHeap();
  const swept = /"sessions":(\d+),"markers":(\d+)/.exec(svc.output());

  // 4. Touch every live session once.
  const touchStarted = performance.now();
  const cpuBefore = cpuSeconds(svc.child.pid);
  const statuses = new Map();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < tokens.length) {
        const token = tokens[next++];
        const status = await get(port, '/auth/validate', { authorization: `Bearer ${token}` });
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const touchSeconds = (performance.now() - touchStarted) / 1000;
  // CPU per request tells the cost apart from the machine's other load, which throughput does not.
  const cpuPerValidateUs = ((cpuSeconds(svc.child.pid) - cpuBefore) / tokens.length) * 1e6;
  const afterTouch = rss(svc.child.pid);
  const heapAfterTouch = await svc.probeHeap();
  const afterTouchGc = rss(svc.child.pid);
  await stop(svc);

  lines.push(
    `seeded ${SESSIONS.toLocaleString('en-US')} live + ${EXPIRED.toLocaleString('en-US')} expired sessions (and ${EXPIRED.toLocaleString('en-US')} expired refresh markers) in ${seedSeconds.toFixed(1)} s`,
  );
  lines.push(`time to ready (spawn → /auth/health 200)          ${readyMs.toFixed(0).padStart(5)} ms`);
  lines.push(
    `RSS when ready                                    ${mb(afterStart.rss)}   (${split(afterStart)}; peak so far ${mb(afterStart.peak)})`,
  );
  lines.push(
    `RSS after the start-up sweep (done at ${(sweptMs / 1000).toFixed(1)} s; deleted ${swept?.[1] ?? '?'} sessions, ${swept?.[2] ?? '?'} markers) ${mb(afterSweep.rss)}   (${split(afterSweep)}; peak so far ${mb(afterSweep.peak)})`,
  );
  const counts = [...statuses].map(([s, n]) => `${n.toLocaleString('en-US')} × ${s}`).join(', ');
  lines.push(
    `RSS after one validate per live session           ${mb(afterTouch.rss)}   (${split(afterTouch)}; peak ${mb(afterTouch.peak)}; ${counts}; ${touchSeconds.toFixed(1)} s, ${CONCURRENCY} connections; ${cpuPerValidateUs.toFixed(0)} µs CPU each)`,
  );
  const heap = (h) =>
    `live JS heap after a full GC ${mb(h.heapUsed)} (heap reserved ${mb(h.heapTotal)}, external ${mb(h.external)})`;
  lines.push(`  after the sweep: ${heap(heapAfterSweep)}`);
  lines.push(
    `  after the validates: ${heap(heapAfterTouch)}; RSS after that GC ${mb(afterTouchGc.rss)} (${split(afterTouchGc)})`,
  );
  console.log(`\nmero-auth memory bench — node ${process.version}\n`);
  for (const l of lines) console.log(l);
} finally {
  agent.destroy();
  rmSync(work, { recursive: true, force: true });
}
