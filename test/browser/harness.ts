/**
 * What the browser tests need: Debian's Chromium driven by playwright-core, the real service
 * process (the compiled CLI of this run, test/global-setup.ts, with its login bundle), a
 * loopback callback server standing in for an app or meroctl, and an axe-core scan.
 *
 * Without /usr/bin/chromium the suite is skipped with a message, except under CI=true, where it
 * fails: CI must not pass without having run it (.ci/run installs chromium when missing).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describe, it } from 'vitest';
import { CliProcess, freePort, logMessage, type Env } from '../e2e/process.js';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * `describe` when Chromium is there; otherwise a skipped suite with the reason, or, under CI, a
 * suite whose one test fails with it.
 */
export function describeInBrowser(name: string, body: () => void): void {
  if (existsSync(CHROMIUM)) {
    describe(name, body);
    return;
  }
  const why = `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does it when run as root)`;
  if (process.env.CI === 'true' || process.env.CI === '1') {
    describe(name, () => {
      it('needs Chromium', () => {
        throw new Error(`the browser tests cannot run: ${why}`);
      });
    });
    return;
  }
  console.warn(`[browser tests skipped] ${why}`);
  describe.skipIf(true)(name, body);
}

/**
 * Headless Chromium. playwright-core gives every launch a fresh temporary `--user-data-dir`
 * (and removes it on close), so no profile state survives between runs.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const ADMIN_PASSWORD = 'browser-test password 1';

/** Fast argon2 (the lowest OWASP pair) and one admin, as an operator would provision it. */
export const NODE_ENV: Env = {
  AUTH__USER_PASSWORD__ARGON2__MEMORY_KIB: '7168',
  AUTH__USER_PASSWORD__ARGON2__ITERATIONS: '5',
  MERO_AUTH_ADMIN_USER: 'admin',
  MERO_AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
};

export interface Node {
  proc: CliProcess;
  port: number;
  /** `http://127.0.0.1:<port>`: the page is opened there, so its tokens are bound to that host. */
  url: string;
  stop(): Promise<void>;
}

/**
 * `mero-auth serve` from this run's build, in a fresh working directory, for a whole suite
 * (test/e2e's startService ties the process to one test). Stopped and removed by `stop()`.
 * `env` may depend on the port (a passkey origin names it).
 */
export async function startNode(env: Env | ((port: number) => Env)): Promise<Node> {
  const cwd = await mkdtemp(join(tmpdir(), 'mero-auth-browser-'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = new CliProcess({ cwd, args: ['--bind', `127.0.0.1:${port}`], env: typeof env === 'function' ? env(port) : env });
    const expected = `listening on 127.0.0.1:${port}`;
    const stop = async () => {
      if (proc.alive) await proc.stop().catch(() => proc.kill9());
      await rm(cwd, { recursive: true, force: true });
    };
    try {
      await proc.waitForLine((line) => logMessage(line) === expected, `'${expected}' log line`);
      return { proc, port, url: `http://127.0.0.1:${port}`, stop };
    } catch (e) {
      if (proc.alive) await proc.kill9();
      if (attempt >= 3 || !proc.stderr.includes('EADDRINUSE')) {
        await rm(cwd, { recursive: true, force: true });
        throw e;
      }
    }
  }
}

export interface CallbackServer {
  /** `http://<host>:<port>` */
  origin: string;
  port: number;
  close(): Promise<void>;
}

/** A loopback "app" whose every path answers a small page (the tokens stay in the fragment). */
export async function startCallbackServer(): Promise<CallbackServer> {
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(
      req.method === 'HEAD' ? undefined : '<!doctype html><html lang="en"><title>App</title><h1>Back in the app</h1></html>',
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `<node>/auth/login?…` with the parameters percent-encoded, in the given order. */
export function loginUrl(node: Node, params: Record<string, string>): string {
  const query = Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');
  return `${node.url}/auth/login${query ? `?${query}` : ''}`;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown; failureSummary?: string }>;
}

/**
 * Runs axe-core on the page as it is now and returns its serious and critical violations,
 * described. (axe is evaluated through the DevTools protocol, which the page CSP does not
 * govern; the page's own scripts still run under it.)
 */
export async function seriousA11yIssues(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const result = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] })')) as {
    violations: AxeViolation[];
  };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

/** What has the keyboard focus: tag, id and rendered text (innerText: hidden labels left out). */
export async function focused(page: Page): Promise<{ tag: string; id: string; text: string }> {
  return (await page.evaluate(
    '(() => { const e = document.activeElement; return { tag: e ? e.tagName : "", id: e ? e.id : "", text: e ? e.innerText.replace(/\\s+/g, " ").trim() : "" }; })()',
  )) as { tag: string; id: string; text: string };
}
