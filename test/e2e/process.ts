/**
 * Starting the real `mero-auth` (`node <build>/dist/cli.js`, built once per run by
 * test/global-setup.ts with `tsc -p tsconfig.build.json`) for the
 * end-to-end tests: a free port, a fresh working directory per test (so `./data` is isolated),
 * stderr collected line by line, a bounded wait for the `listening on` log line, and a stop that
 * awaits the exit. Everything started inside a test is killed when that test finishes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { inject, onTestFinished } from 'vitest';
import { launchOf } from '../../scripts/node-flags.mjs';

/** The compiled CLI of this run (test/global-setup.ts). */
export function cliPath(): string {
  return inject('meroAuthCli');
}

/** How long a start may take before the test fails with the collected output. */
export const START_TIMEOUT_MS = 15_000;
/** How long a stop or a one-shot command may take. */
export const EXIT_TIMEOUT_MS = 15_000;

export type Env = Record<string, string>;

/**
 * Fast argon2 (the lowest OWASP pair, wire §7.2), 1 s access tokens and no leeway, so a token
 * expires quickly. Access expiry stays below the (default) refresh expiry.
 */
export const FAST_ENV: Env = {
  AUTH__JWT__ACCESS_TOKEN_EXPIRY: '1',
  AUTH__JWT__LEEWAY_SECONDS: '0',
  AUTH__USER_PASSWORD__ARGON2__MEMORY_KIB: '7168',
  AUTH__USER_PASSWORD__ARGON2__ITERATIONS: '5',
};

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A port that was free a moment ago: bind 127.0.0.1:0, read the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** Every child not yet known to have exited. */
const live = new Set<CliProcess>();

async function killAndWait(proc: CliProcess): Promise<void> {
  if (proc.alive) proc.child.kill('SIGKILL');
  await proc.exited.catch(() => {});
}

/**
 * A fresh directory, removed when the current test finishes — after SIGKILLing anything still
 * running in it, whatever order the cleanup hooks run in.
 */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mero-auth-e2e-'));
  onTestFinished(async () => {
    await Promise.all([...live].filter((p) => p.opts.cwd === dir).map(killAndWait));
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/**
 * The child's environment: only PATH from ours, so no AUTH__* or MERO_AUTH_* variable of the
 * developer's shell leaks into a test.
 */
function childEnv(env: Env): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  if (process.env.PATH !== undefined) base.PATH = process.env.PATH;
  if (process.env.SYSTEMROOT !== undefined) base.SYSTEMROOT = process.env.SYSTEMROOT;
  return { ...base, ...env };
}

export interface SpawnOptions {
  /** Working directory: `./data/auth` (the default store) lands here. */
  cwd: string;
  args?: string[];
  env?: Env;
  /** Written to stdin, which is then closed; without it stdin is closed at once. */
  stdin?: string;
  /** Leave stdin open after writing `stdin` (like a terminal); it closes when the child exits. */
  keepStdinOpen?: boolean;
}

/** One `node <build>/dist/cli.js` child with its output. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly stderrLines: string[] = [];
  stdout = '';
  /** Resolves once the process exited and its stdio closed (all output collected). */
  readonly exited: Promise<Exit>;
  private exitInfo: Exit | undefined;
  private readonly lineWaiters = new Set<() => void>();

  constructor(readonly opts: SpawnOptions) {
    // With the environment and flags of the CLI's first line, as `npx mero-auth`, npm start and
    // the image run it.
    const launch = launchOf(cliPath());
    this.child = spawn(process.execPath, [...launch.flags, cliPath(), ...(opts.args ?? [])], {
      cwd: opts.cwd,
      env: childEnv({ ...launch.env, ...opts.env }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    if (this.child.stderr) {
      createInterface({ input: this.child.stderr, crlfDelay: Infinity }).on('line', (line) => {
        this.stderrLines.push(line);
        for (const wake of this.lineWaiters) wake();
      });
    }
    this.child.stdin?.on('error', () => {}); // EPIPE when the child exits before reading
    if (opts.keepStdinOpen) this.child.stdin?.write(opts.stdin ?? '');
    else this.child.stdin?.end(opts.stdin ?? '');
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code, signal) => {
        this.exitInfo = { code, signal };
        for (const wake of this.lineWaiters) wake();
        resolve(this.exitInfo);
      });
    });
    this.exited.catch(() => {});
  }

  get stderr(): string {
    return this.stderrLines.join('\n');
  }

  get alive(): boolean {
    return this.exitInfo === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The stderr lines that are pino JSON records, parsed. */
  logRecords(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const line of this.stderrLines) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log record
      }
    }
    return out;
  }

  /** Everything the process printed, for failure messages. */
  describe(): string {
    const exit = this.exitInfo ? `exited with code ${this.exitInfo.code} signal ${this.exitInfo.signal}` : 'still running';
    return (
      `mero-auth ${JSON.stringify(this.opts.args ?? [])} in ${this.opts.cwd} (${exit})\n` +
      `--- stderr ---\n${this.stderr}\n--- stdout ---\n${this.stdout}`
    );
  }

  /**
   * Resolves with the first stderr line (already seen or still to come) that `match` accepts.
   * Rejects, with the output so far, when the process exits first or after `timeoutMs`.
   */
  waitForLine(match: (line: string) => boolean, what: string, timeoutMs = START_TIMEOUT_MS): Promise<string> {
    return new Promise((resolve, reject) => {
      let seen = 0;
      const finish = (err: Error | undefined, line?: string) => {
        clearTimeout(timer);
        this.lineWaiters.delete(check);
        if (err) reject(err);
        else resolve(line as string);
      };
      const check = () => {
        for (; seen < this.stderrLines.length; seen++) {
          const line = this.stderrLines[seen] as string;
          if (match(line)) return finish(undefined, line);
        }
        if (this.exitInfo) finish(new Error(`process exited before ${what}\n${this.describe()}`));
      };
      const timer = setTimeout(() => finish(new Error(`no ${what} within ${timeoutMs} ms\n${this.describe()}`)), timeoutMs);
      this.lineWaiters.add(check);
      check();
    });
  }

  /** Resolves with the exit once it happens; rejects (with the output) after `timeoutMs`. */
  async waitForExit(timeoutMs = EXIT_TIMEOUT_MS): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no exit within ${timeoutMs} ms\n${this.describe()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` (SIGTERM by default) and awaits the exit, bounded. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = EXIT_TIMEOUT_MS): Promise<Exit> {
    if (this.alive) this.child.kill(signal);
    return this.waitForExit(timeoutMs);
  }

  /** kill -9, then await the exit. */
  kill9(): Promise<Exit> {
    return this.stop('SIGKILL');
  }
}

/** Spawns a process and makes sure it is dead (SIGKILL) when the current test finishes. */
export function spawnCli(opts: SpawnOptions): CliProcess {
  const proc = new CliProcess(opts);
  live.add(proc);
  void proc.exited.finally(() => live.delete(proc)).catch(() => {});
  onTestFinished(() => killAndWait(proc));
  return proc;
}

/** Runs a command that is expected to exit on its own (`--version`, `set-admin`, a config error). */
export async function runCli(
  opts: SpawnOptions,
  timeoutMs = EXIT_TIMEOUT_MS,
): Promise<Exit & { stdout: string; stderr: string; proc: CliProcess }> {
  const proc = spawnCli(opts);
  const exit = await proc.waitForExit(timeoutMs);
  return { ...exit, stdout: proc.stdout, stderr: proc.stderr, proc };
}

export interface Service extends CliProcess {
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
}

export interface StartOptions extends SpawnOptions {
  /** Defaults to a free port; passed as `--bind 127.0.0.1:<port>`. */
  port?: number;
}

/**
 * Starts `mero-auth serve` on a free loopback port and waits for its `listening on` log line.
 * When the port was taken between the probe and the bind (EADDRINUSE), tries another one.
 */
export async function startService(opts: StartOptions): Promise<Service> {
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const proc = spawnCli({ ...opts, args: [...(opts.args ?? []), '--bind', `127.0.0.1:${port}`] });
    const expected = `listening on 127.0.0.1:${port}`;
    try {
      await proc.waitForLine((line) => logMessage(line) === expected, `'${expected}' log line`);
      return Object.assign(proc, { port, url: `http://127.0.0.1:${port}` });
    } catch (e) {
      const portRace = opts.port === undefined && !proc.alive && proc.stderr.includes('EADDRINUSE');
      if (!portRace || attempt >= 3) throw e;
    }
  }
}

/** The `msg` of a pino JSON line, or undefined. */
export function logMessage(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const msg = (JSON.parse(line) as { msg?: unknown }).msg;
    return typeof msg === 'string' ? msg : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Polls `probe` until it returns something other than undefined; bounded. For waiting on a
 * state (a token that has expired), never for asserting how long something took.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  { timeoutMs = 5_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
