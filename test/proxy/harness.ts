/**
 * Real reverse proxies for the forward-auth tests: nginx and Caddy from Debian, run as child
 * processes on free loopback ports, with configs generated from the checked-in templates under
 * deploy/ (only the addresses are substituted) and every runtime path (pid, logs, temp files,
 * Caddy's data and config directories) inside a temporary directory.
 *
 * Processes started here are not tied to one test (the proxies serve a whole file), so they are
 * stopped by the file's afterAll through `stopAll()`; a crashed run leaves them to die with
 * the worker (each is killed on the worker's exit as well).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TEMPLATES = {
  nginx: join(ROOT, 'deploy', 'nginx', 'mero-auth.conf'),
  caddy: join(ROOT, 'deploy', 'caddy', 'Caddyfile'),
};

/** The addresses the templates ship with, which the tests replace. */
const AUTH_ADDR = '127.0.0.1:3001';
const NODE_ADDR = '127.0.0.1:2428';

export type ProxyKind = 'nginx' | 'caddy';

/** A child process with its output, a bounded wait for a port, and a stop that awaits the exit. */
export class Child {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly child: ChildProcess;
  private readonly lineWaiters = new Set<() => void>();

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    opts: { cwd: string; env?: NodeJS.ProcessEnv },
  ) {
    this.child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream) {
        createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
          this.lines.push(line);
          for (const wake of this.lineWaiters) wake();
        });
      }
    }
    this.exited = new Promise((resolve) => {
      this.child.once('error', (e) => {
        this.lines.push(`spawn error: ${e.message}`);
        this.exit = { code: -1, signal: null };
        resolve(this.exit);
      });
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        for (const wake of this.lineWaiters) wake();
        resolve(this.exit);
      });
    });
    children.add(this);
    void this.exited.then(() => children.delete(this));
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  describe(): string {
    const state = this.exit ? `exited (code ${this.exit.code}, signal ${this.exit.signal})` : 'running';
    return `${this.name}: ${state}\n${this.lines.slice(-40).join('\n')}`;
  }

  /** The first output line (seen or to come) that `match` accepts; bounded. */
  waitForLine(match: (line: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
    return new Promise((resolve, reject) => {
      let seen = 0;
      const done = (err: Error | undefined, line?: string) => {
        clearTimeout(timer);
        this.lineWaiters.delete(check);
        if (err) reject(err);
        else resolve(line as string);
      };
      const check = () => {
        for (; seen < this.lines.length; seen++) {
          const line = this.lines[seen] as string;
          if (match(line)) return done(undefined, line);
        }
        if (this.exit) done(new Error(`${what}: the process exited first\n${this.describe()}`));
      };
      const timer = setTimeout(() => done(new Error(`no ${what} within ${timeoutMs} ms\n${this.describe()}`)), timeoutMs);
      this.lineWaiters.add(check);
      check();
    });
  }

  /** Polls until `port` on 127.0.0.1 accepts a connection (bounded); fails if the process dies. */
  async waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.alive) throw new Error(`${this.name} exited before listening on ${port}\n${this.describe()}`);
      if (await canConnect(port)) return;
      if (Date.now() > deadline)
        throw new Error(`${this.name} not listening on ${port} within ${timeoutMs} ms\n${this.describe()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }
}

const children = new Set<Child>();
process.once('exit', () => {
  for (const c of children) c.kill();
});

/** Stops every child started through this module (the file's afterAll). */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => c.stop()));
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function which(binary: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path !== '' ? path : undefined;
}

/**
 * The proxies' binaries, installed from Debian when missing and we are root (`.ci/run` does the
 * same before the tests; this covers a plain `npm test` on a fresh machine).
 */
export function ensureProxies(): Record<ProxyKind, string> {
  const missing = (['nginx', 'caddy'] as const).filter((b) => which(b) === undefined);
  if (missing.length > 0) {
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (!isRoot || which('apt-get') === undefined) {
      throw new Error(
        `the proxy tests need ${missing.join(' and ')}: run 'apt-get install -y ${missing.join(' ')}' (Debian) or 'bash .ci/run' as root`,
      );
    }
    const run = (args: string[]) => {
      const r = spawnSync('apt-get', args, {
        encoding: 'utf8',
        timeout: 300_000,
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
    };
    // The packages must not start their own services (nginx would bind port 80).
    const policy = '/usr/sbin/policy-rc.d';
    const ownPolicy = !existsSync(policy);
    if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    try {
      run(['update', '-qq']);
      run(['install', '-y', '-qq', '--no-install-recommends', ...missing]);
    } finally {
      if (ownPolicy) rmSync(policy, { force: true });
    }
  }
  const nginx = which('nginx');
  const caddy = which('caddy');
  if (!nginx || !caddy) throw new Error('nginx or caddy still missing after apt-get install');
  return { nginx, caddy };
}

/** Replaces each `from` (which must occur) by `to`, everywhere. */
export function substitute(template: string, replacements: Array<[string, string]>): string {
  let out = template;
  for (const [from, to] of replacements) {
    if (!out.includes(from)) throw new Error(`the template no longer contains ${JSON.stringify(from)}`);
    out = out.split(from).join(to);
  }
  return out;
}

export interface Upstreams {
  authPort: number;
  nodePort: number;
}

/** nginx's server config from the template, and the main config that runs it (foreground, one process). */
export async function nginxConfig(dir: string, port: number, up: Upstreams): Promise<string> {
  const server = substitute(await readFile(TEMPLATES.nginx, 'utf8'), [
    ['listen 80;', `listen 127.0.0.1:${port};`],
    [`server ${AUTH_ADDR};`, `server 127.0.0.1:${up.authPort};`],
    [`server ${NODE_ADDR};`, `server 127.0.0.1:${up.nodePort};`],
  ]);
  if ((server.match(/^\s*listen\s/gm) ?? []).length !== 1)
    throw new Error('the nginx template must have exactly one listen directive');
  const tmp = join(dir, 'tmp');
  await mkdir(tmp, { recursive: true });
  await writeFile(join(dir, 'mero-auth.conf'), server);
  const main = `daemon off;
master_process off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log stderr notice;
events { worker_connections 256; }
http {
    access_log ${join(dir, 'access.log')};
    client_body_temp_path ${join(tmp, 'body')};
    proxy_temp_path ${join(tmp, 'proxy')};
    fastcgi_temp_path ${join(tmp, 'fastcgi')};
    uwsgi_temp_path ${join(tmp, 'uwsgi')};
    scgi_temp_path ${join(tmp, 'scgi')};
    include ${join(dir, 'mero-auth.conf')};
}
`;
  const file = join(dir, 'nginx.conf');
  await writeFile(file, main);
  return file;
}

/** Caddy's config from the template: bound to 127.0.0.1, no admin endpoint, no automatic HTTPS. */
export async function caddyConfig(dir: string, port: number, up: Upstreams): Promise<string> {
  const site = substitute(await readFile(TEMPLATES.caddy, 'utf8'), [
    [':8080 {', `:${port} {\n\tbind 127.0.0.1`],
    [AUTH_ADDR, `127.0.0.1:${up.authPort}`],
    [NODE_ADDR, `127.0.0.1:${up.nodePort}`],
  ]);
  const file = join(dir, 'Caddyfile');
  await writeFile(file, `{\n\tadmin off\n\tauto_https off\n}\n\n${site}`);
  return file;
}

/**
 * Runs `start` on a free port, with up to two more tries on fresh ports: a port probed free can
 * be taken by another process before the child binds it. The last failure is reported.
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>, freePort: () => Promise<number>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort());
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
}

/** Starts a proxy on `port` in front of the two upstreams. */
export async function startProxy(kind: ProxyKind, binary: string, dir: string, port: number, up: Upstreams): Promise<Child> {
  await mkdir(dir, { recursive: true });
  let child: Child;
  if (kind === 'nginx') {
    const conf = await nginxConfig(dir, port, up);
    child = new Child('nginx', binary, ['-p', `${dir}/`, '-e', 'stderr', '-c', conf], { cwd: dir });
  } else {
    const conf = await caddyConfig(dir, port, up);
    child = new Child('caddy', binary, ['run', '--config', conf, '--adapter', 'caddyfile'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
    });
  }
  try {
    await child.waitForPort(port);
  } catch (e) {
    child.kill();
    throw e;
  }
  return child;
}
