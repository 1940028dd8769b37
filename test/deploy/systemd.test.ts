/**
 * deploy/systemd/mero-auth.service: `systemd-analyze verify` finds nothing in it, its ExecStart
 * and environment are the service's own launch (src/cli.ts's first line), every variable is one
 * the service reads and loads without a problem, and the service started exactly as the unit
 * says (its ExecStart, its Environment lines, with the directories systemd would hand it)
 * answers. No systemd runs here: what systemd adds (user, sandbox) is left to systemd.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launchOf } from '../../scripts/node-flags.mjs';
import { loadConfig } from '../../src/config/load.js';
import { KEK_ENV, KEK_FILE_ENV } from '../../src/secrets/kek.js';
import { cliPath, freePort } from '../e2e/process.js';

const root = join(import.meta.dirname, '..', '..');
const unitPath = join(root, 'deploy', 'systemd', 'mero-auth.service');
const unitText = readFileSync(unitPath, 'utf8');
const INSTALL = '/opt/mero-auth';
const NODE = '/usr/bin/node';

/** `[Section] Key=value` lines (comments and blank lines skipped), in order. */
function directives(text: string): Array<{ section: string; key: string; value: string }> {
  const out: Array<{ section: string; key: string; value: string }> = [];
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1] as string;
      continue;
    }
    const eq = line.indexOf('=');
    out.push({ section, key: line.slice(0, eq), value: line.slice(eq + 1) });
  }
  return out;
}

/** The unit with its optional first-account lines uncommented, as the docs tell an operator to. */
const withAdmin = unitText.replace(/^#((?:LoadCredential=admin-password|Environment=MERO_AUTH_ADMIN_)[^\n]*)$/gm, '$1');

const service = directives(withAdmin).filter((d) => d.section === 'Service');
const values = (key: string): string[] => service.filter((d) => d.key === key).map((d) => d.value);
const environment = Object.fromEntries(
  values('Environment').map((v) => {
    const eq = v.indexOf('=');
    return [v.slice(0, eq), v.slice(eq + 1)];
  }),
);

/** What systemd puts in for %S (state root) and %d (credentials directory). */
const specifiers = (value: string, dirs: { state: string; credentials: string }): string =>
  value.replaceAll('%S', dirs.state).replaceAll('%d', dirs.credentials);

const temps: string[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
});

describe('deploy/systemd/mero-auth.service', () => {
  const launch = launchOf(cliPath());

  it('starts the service with the environment and Node flags of src/cli.ts’s first line', () => {
    expect(values('ExecStart')).toEqual([[NODE, ...launch.flags, `${INSTALL}/dist/cli.js`, 'serve'].join(' ')]);
    for (const [name, value] of Object.entries(launch.env)) expect(environment[name]).toBe(value);
  });

  it('sets only variables the service (or glibc, or Node) reads, and they load without a problem', () => {
    const read = (name: string) =>
      name.startsWith('AUTH__') ||
      [KEK_FILE_ENV, 'MERO_AUTH_ADMIN_USER', 'MERO_AUTH_ADMIN_PASSWORD_FILE', 'NODE_ENV'].includes(name) ||
      name in launch.env;
    for (const name of Object.keys(environment)) expect(read(name), `${name} is read by nothing`).toBe(true);
    const dirs = { state: '/var/lib', credentials: '/run/credentials/mero-auth.service' };
    const env = Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, specifiers(v, dirs)]));
    expect(loadConfig({ env }).warnings).toEqual([]);
  });

  it('takes the KEK from a systemd credential, never from a variable or the state directory', () => {
    expect(environment[KEK_ENV]).toBeUndefined();
    expect(values('LoadCredential')).toEqual(['kek:/etc/mero-auth/kek', 'admin-password:/etc/mero-auth/admin-password']);
    expect(environment.MERO_AUTH_ADMIN_PASSWORD_FILE).toBe('%d/admin-password');
    expect(environment[KEK_FILE_ENV]).toBe('%d/kek');
  });

  it('runs sandboxed as its own user with a private state directory; V8 keeps its JIT', () => {
    expect(values('DynamicUser')).toEqual(['yes']);
    expect(values('StateDirectory')).toEqual(['mero-auth']);
    expect(values('StateDirectoryMode')).toEqual(['0700']);
    expect(values('ProtectSystem')).toEqual(['strict']);
    expect(values('NoNewPrivileges')).toEqual(['yes']);
    expect(values('CapabilityBoundingSet')).toEqual(['']);
    // W^X would stop V8 at its first compiled function.
    expect(values('MemoryDenyWriteExecute')).toEqual([]);
  });

  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  const why = 'systemd-analyze is missing: install Debian’s systemd (.ci/run does it when run as root)';
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  it.skipIf(analyze.status !== 0 && !ci)('systemd-analyze verify finds nothing to report', () => {
    if (analyze.status !== 0) throw new Error(`the unit cannot be checked: ${why}`);
    // A copy whose node is this machine's (verify checks that ExecStart's program exists).
    const dir = mkdtempSync(join(tmpdir(), 'mero-systemd-'));
    temps.push(dir);
    for (const text of [unitText, withAdmin]) {
      const copy = join(dir, 'mero-auth.service');
      writeFileSync(copy, text.replaceAll(`ExecStart=${NODE} `, `ExecStart=${process.execPath} `));
      const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
      expect({ status: r.status, output: `${r.stdout}${r.stderr}`.trim() }).toEqual({ status: 0, output: '' });
    }
  });

  it('started as ExecStart and the Environment lines say, the service answers and runs with them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mero-systemd-run-'));
    temps.push(dir);
    const dirs = { state: join(dir, 'state'), credentials: join(dir, 'credentials') };
    // What systemd prepares: the state directory (0700) and the credential.
    mkdirSync(join(dirs.state, 'mero-auth'), { recursive: true, mode: 0o700 });
    mkdirSync(dirs.credentials, { mode: 0o700 });
    writeFileSync(join(dirs.credentials, 'kek'), 'a key-encryption key for this test\n', { mode: 0o400 });
    writeFileSync(join(dirs.credentials, 'admin-password'), 'the operator’s long password\n', { mode: 0o400 });
    const port = await freePort();
    const env = {
      PATH: process.env.PATH ?? '',
      ...Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, specifiers(v, dirs)])),
      AUTH__LISTEN_ADDR: `127.0.0.1:${port}`,
    };
    const [program, ...args] = (values('ExecStart')[0] as string).split(' ');
    expect(program).toBe(NODE);
    const argv = args.map((a) => a.replace(`${INSTALL}/dist/cli.js`, cliPath()));
    const child = spawn(process.execPath, argv, {
      cwd: specifiers(values('WorkingDirectory')[0] as string, dirs),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const onData = (d: Buffer) => {
          output += d.toString();
          if (output.includes(`listening on 127.0.0.1:${port}`)) resolve();
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code) => reject(new Error(`exited (${code}) before listening:\n${output}`)));
      });
      expect((await fetch(`http://127.0.0.1:${port}/auth/health`)).status).toBe(200);
      // The first account, from the credential file.
      const login = await fetch(`http://127.0.0.1:${port}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          auth_method: 'user_password',
          public_key: 'systemd-test',
          client_name: 'systemd-test',
          timestamp: 0,
          provider_data: { username: 'admin', password: 'the operator’s long password' },
        }),
      });
      expect(login.status).toBe(200);
      const seen = readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0');
      expect(seen).toContain('MALLOC_ARENA_MAX=2');
      expect(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0')).toContain('--max-semi-space-size=4');
      // The store and nothing else landed in the state directory; the KEK stayed a credential.
      expect(readdirSync(join(dirs.state, 'mero-auth'))).toEqual(['auth']);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    expect(child.exitCode).toBe(0);
  });
});
