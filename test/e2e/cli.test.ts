/**
 * The command line and configuration errors of the real binary (wire §3.9, §7.3–§7.5, §7.8):
 * usage and configuration errors exit 2 before anything touches the data directory, each
 * message naming the key and where the value came from.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logMessage, runCli, tempDir, type Env } from './process.js';

/** Runs the service with a configuration that must be refused; returns stderr's lines. */
async function refused(args: string[], env: Env = {}, cwd?: string): Promise<string[]> {
  const dir = cwd ?? (await tempDir());
  const r = await runCli({ cwd: dir, args, env });
  expect(r.code, r.proc.describe()).toBe(2);
  expect(r.stdout).toBe('');
  // Step 2 of startup fails before step 4: no data directory was created.
  expect(existsSync(join(dir, 'data')), 'data directory created despite a configuration error').toBe(false);
  return r.stderr.split('\n').filter((l) => l !== '');
}

/** Every line of a configuration failure is one `invalid configuration: …` problem (§7.3). */
function expectProblems(lines: string[]): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line).toMatch(/^invalid configuration: /);
}

describe('configuration errors exit 2 naming the key and the source', () => {
  it('an uncoercible environment value', async () => {
    const lines = await refused([], { AUTH__JWT__ACCESS_TOKEN_EXPIRY: 'abc' });
    expectProblems(lines);
    expect(lines).toEqual([
      expect.stringMatching(/^invalid configuration: jwt\.access_token_expiry \(from AUTH__JWT__ACCESS_TOKEN_EXPIRY\): .*abc/),
    ]);
  });

  it('a violated constraint from the environment', async () => {
    const lines = await refused([], { AUTH__JWT__ACCESS_TOKEN_EXPIRY: '0' });
    expectProblems(lines);
    expect(lines).toContain(
      'invalid configuration: jwt.access_token_expiry (from AUTH__JWT__ACCESS_TOKEN_EXPIRY): must be a positive integer',
    );
  });

  it('every problem is reported, not only the first', async () => {
    const lines = await refused([], {
      AUTH__JWT__ACCESS_TOKEN_EXPIRY: 'abc',
      AUTH__RATE_LIMIT__WINDOW_SECONDS: '0',
    });
    expectProblems(lines);
    expect(
      lines.some((l) => l.startsWith('invalid configuration: jwt.access_token_expiry (from AUTH__JWT__ACCESS_TOKEN_EXPIRY): ')),
    ).toBe(true);
    expect(
      lines.some((l) =>
        l.startsWith('invalid configuration: rate_limit.window_seconds (from AUTH__RATE_LIMIT__WINDOW_SECONDS): '),
      ),
    ).toBe(true);
  });

  it('a TOML file with a bad origin', async () => {
    const cwd = await tempDir();
    const file = join(cwd, 'auth.toml');
    await writeFile(file, '[cors]\nallow_all_origins = false\nallowed_origins = ["https://app.example.com", "example.com"]\n');
    const lines = await refused(['--config', file], {}, cwd);
    expect(lines).toEqual([`invalid configuration: cors.allowed_origins[1] (from ${file}): not an origin: "example.com"`]);
  });

  it('a TOML syntax error names the line', async () => {
    const cwd = await tempDir();
    const file = join(cwd, 'auth.toml');
    await writeFile(file, 'listen_addr = "127.0.0.1:3001"\n[jwt\n');
    const lines = await refused(['-c', file], {}, cwd);
    expectProblems(lines);
    expect(lines[0]).toContain(file);
    expect(lines[0]).toMatch(/line 2/);
  });

  it('a missing --config file', async () => {
    const lines = await refused(['--config', './no-such-auth.toml']);
    expectProblems(lines);
    expect(lines[0]).toMatch(/^invalid configuration: \.\/no-such-auth\.toml: /);
  });

  it('--bind that is not ip:port', async () => {
    const lines = await refused(['--bind', 'nonsense']);
    expect(lines).toEqual([expect.stringMatching(/^invalid configuration: listen_addr \(from --bind\): .*nonsense/)]);
  });

  it('an unknown flag is a usage error', async () => {
    const lines = await refused(['--frobnicate']);
    expect(lines[0]).toContain('--frobnicate');
  });

  it('an unexpected argument is a usage error', async () => {
    const lines = await refused(['serve', 'extra']);
    expect(lines[0]).toContain('extra');
  });

  it('mock auth enabled without a header value names development.mock_auth_header_value', async () => {
    const lines = await refused([], { AUTH__DEVELOPMENT__ENABLE_MOCK_AUTH: 'true' });
    expectProblems(lines);
    expect(lines.some((l) => l.startsWith('invalid configuration: development.mock_auth_header_value '))).toBe(true);
  });

  it('mock auth enabled with the header requirement off names development.mock_auth_require_header', async () => {
    const lines = await refused([], {
      AUTH__DEVELOPMENT__ENABLE_MOCK_AUTH: 'true',
      AUTH__DEVELOPMENT__MOCK_AUTH_HEADER_VALUE: 'Bearer test-auth-token',
      AUTH__DEVELOPMENT__MOCK_AUTH_REQUIRE_HEADER: 'false',
    });
    expectProblems(lines);
    expect(lines.some((l) => l.startsWith('invalid configuration: development.mock_auth_require_header '))).toBe(true);
  });
});

describe('informational flags exit 0', () => {
  it.each([['--version'], ['-V']])('%s prints "mero-auth 0.1.0"', async (flag) => {
    const cwd = await tempDir();
    const r = await runCli({ cwd, args: [flag] });
    expect(r.code, r.proc.describe()).toBe(0);
    expect(r.stdout).toBe('mero-auth 0.1.0\n');
    expect(r.stderr).toBe('');
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it.each([['--help'], ['-h'], ['set-admin', '--help']])('%s prints the usage', async (...args) => {
    const cwd = await tempDir();
    const r = await runCli({ cwd, args });
    expect(r.code, r.proc.describe()).toBe(0);
    expect(r.stdout).toContain('mero-auth set-admin');
    expect(r.stdout).toContain('--config');
    expect(r.stdout).toContain('--bind');
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });
});

describe('startup failures exit 1', () => {
  it('a listen address already in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve, reject) => {
      blocker.once('error', reject);
      blocker.listen(0, '127.0.0.1', () => resolve());
    });
    try {
      const port = (blocker.address() as { port: number }).port;
      const cwd = await tempDir();
      const r = await runCli({ cwd, args: ['--bind', `127.0.0.1:${port}`] });
      expect(r.code, r.proc.describe()).toBe(1);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}`);
      expect(r.stderr.split('\n').some((l) => logMessage(l)?.startsWith('listening on'))).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
