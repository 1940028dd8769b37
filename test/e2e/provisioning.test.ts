/**
 * The first admin (wire §7.1, §7.5): a fresh node without credentials starts and says how to
 * create one; `mero-auth set-admin` provisions offline (and refuses while the service holds the
 * store); the environment rules for MERO_AUTH_ADMIN_*.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claims, login, loginOk, request } from './client.js';
import { FAST_ENV, logMessage, runCli, startService, tempDir } from './process.js';

const INVALID_CREDENTIALS = 'Authentication failed: Authentication failed: Invalid username or password';
const USER_WITHOUT_PASSWORD =
  'MERO_AUTH_ADMIN_USER is set but no password was provided; set MERO_AUTH_ADMIN_PASSWORD or MERO_AUTH_ADMIN_PASSWORD_FILE';
const PASSWORD_WITHOUT_USER =
  'an admin password is set (MERO_AUTH_ADMIN_PASSWORD or MERO_AUTH_ADMIN_PASSWORD_FILE) but MERO_AUTH_ADMIN_USER is not; set it or unset the password';

describe('no admin yet', () => {
  it('starts, explains how to provision, refuses logins; set-admin then creates the account', async () => {
    const cwd = await tempDir();
    const svc = await startService({ cwd, env: FAST_ENV });

    // The operator is told how to create the first admin.
    const hint = svc.logRecords().find((r) => typeof r.msg === 'string' && r.msg.includes('set-admin'));
    expect(hint, svc.describe()).toBeDefined();
    expect(hint?.msg).toContain('MERO_AUTH_ADMIN_USER');
    expect(hint?.level).toBe('info'); // §7.1; level names as strings (issue 12)

    const providers = await request(`${svc.url}/auth/providers`);
    expect(providers.status).toBe(200);
    expect(providers.json.data.count).toBe(1);
    expect(providers.json.data.providers[0]).toMatchObject({ name: 'user_password', configured: false });

    const denied = await login(svc.url, 'alice', 'alice-password-1');
    expect(denied.status, denied.text).toBe(401);
    expect(denied.json).toEqual({ data: null, error: INVALID_CREDENTIALS });

    // set-admin while the service holds the store: exit 1, the lock message (§6.1, §7.5).
    const busy = await runCli({
      cwd,
      env: FAST_ENV,
      args: ['set-admin', '--username', 'alice', '--password-stdin'],
      stdin: 'alice-password-1\n',
    });
    expect(busy.code, busy.proc.describe()).toBe(1);
    expect(busy.stderr).toContain(`the data directory ${join(cwd, 'data', 'auth')} is locked by another process`);
    expect(busy.stderr).toContain('Stop the running service first');

    expect(await svc.stop()).toEqual({ code: 0, signal: null });

    // Offline provisioning with the password on stdin.
    const password = `alice-${randomBytes(9).toString('base64url')}`;
    const made = await runCli({
      cwd,
      env: FAST_ENV,
      args: ['set-admin', '--username', 'alice', '--password-stdin'],
      stdin: `${password}\n`,
    });
    expect(made.code, made.proc.describe()).toBe(0);
    expect(made.stdout).toContain('alice');
    expect(made.stdout + made.stderr).not.toContain(password);

    const again = await startService({ cwd, env: FAST_ENV });
    expect(again.logRecords().some((r) => String(r.msg).includes('set-admin'))).toBe(false);
    const providersNow = await request(`${again.url}/auth/providers`);
    expect(providersNow.json.data.providers[0].configured).toBe(true);
    const pair = await loginOk(again.url, 'alice', password);
    // The printed key prefix is the first 8 characters of the account's key id.
    const keyId = claims(pair.access_token).sub as string;
    expect(keyId.length).toBeGreaterThan(8);
    expect(made.stdout).toContain(keyId.slice(0, 8));
    expect(made.stdout).not.toContain(keyId);
    // Exactly one trailing newline was stripped from stdin.
    expect((await login(again.url, 'alice', `${password}\n`)).status).toBe(401);
    expect(await again.stop()).toEqual({ code: 0, signal: null });
  });

  it('set-admin --password-stdin reads one line and does not wait for EOF (a terminal)', async () => {
    const cwd = await tempDir();
    const password = `tty-${randomBytes(9).toString('base64url')}`;
    const r = await runCli({
      cwd,
      env: FAST_ENV,
      args: ['set-admin', '--username', 'carol', '--password-stdin'],
      stdin: `${password}\n`,
      keepStdinOpen: true,
    });
    expect(r.code, r.proc.describe()).toBe(0);
    expect(r.stdout).toContain('carol');
    const svc = await startService({ cwd, env: FAST_ENV });
    expect((await login(svc.url, 'carol', password)).status).toBe(200);
  });

  it('set-admin refuses a too-short password and stores nothing', async () => {
    const cwd = await tempDir();
    const r = await runCli({
      cwd,
      env: FAST_ENV,
      args: ['set-admin', '--username', 'bob', '--password-stdin'],
      stdin: 'short\n',
    });
    expect(r.code, r.proc.describe()).toBe(2);
    expect(r.stderr).toContain('Password must be at least 8 characters long');
    const svc = await startService({ cwd, env: FAST_ENV });
    const providers = await request(`${svc.url}/auth/providers`);
    expect(providers.json.data.providers[0].configured).toBe(false);
  });

  it('set-admin refuses a username with an invisible character (exit 2, the reason) and stores nothing', async () => {
    const cwd = await tempDir();
    const r = await runCli({
      cwd,
      env: FAST_ENV,
      args: ['set-admin', '--username', 'ad\u200Bmin', '--password-stdin'],
      stdin: 'a long passphrase\n',
    });
    expect(r.code, r.proc.describe()).toBe(2);
    expect(r.stderr.split('\n')).toContain('mero-auth: username contains an invisible formatting character (U+200B)');
    const svc = await startService({ cwd, env: FAST_ENV });
    const providers = await request(`${svc.url}/auth/providers`);
    expect(providers.json.data.providers[0].configured).toBe(false);
  });
});

describe('MERO_AUTH_ADMIN_* environment (wire §7.1)', () => {
  it('a username with a bidi override: exit 2 with the reason', async () => {
    const cwd = await tempDir();
    const r = await runCli({
      cwd,
      env: { ...FAST_ENV, MERO_AUTH_ADMIN_USER: '\u202Eadmin', MERO_AUTH_ADMIN_PASSWORD: 'a long passphrase' },
      args: ['--bind', '127.0.0.1:0'],
    });
    expect(r.code, r.proc.describe()).toBe(2);
    expect(r.stderr.split('\n')).toContain('mero-auth: username contains an invisible formatting character (U+202E)');
    expect(r.stderr.split('\n').some((l) => logMessage(l)?.startsWith('listening on'))).toBe(false);
  });

  it('a user without a password: exit 2 with the message', async () => {
    const cwd = await tempDir();
    const r = await runCli({ cwd, env: { ...FAST_ENV, MERO_AUTH_ADMIN_USER: 'admin' }, args: ['--bind', '127.0.0.1:0'] });
    expect(r.code, r.proc.describe()).toBe(2);
    expect(r.stderr.split('\n')).toContain(`mero-auth: ${USER_WITHOUT_PASSWORD}`);
    expect(r.stderr.split('\n').some((l) => logMessage(l)?.startsWith('listening on'))).toBe(false);
  });

  it('a password without a user: exit 2 with the message', async () => {
    const cwd = await tempDir();
    const r = await runCli({
      cwd,
      env: { ...FAST_ENV, MERO_AUTH_ADMIN_PASSWORD: 'orphan-password' },
      args: ['--bind', '127.0.0.1:0'],
    });
    expect(r.code, r.proc.describe()).toBe(2);
    expect(r.stderr.split('\n')).toContain(`mero-auth: ${PASSWORD_WITHOUT_USER}`);
  });

  it('a password file without a user: exit 2 with the same message', async () => {
    const cwd = await tempDir();
    const file = join(cwd, 'admin-password');
    await writeFile(file, 'file-password\n');
    const r = await runCli({
      cwd,
      env: { ...FAST_ENV, MERO_AUTH_ADMIN_PASSWORD_FILE: file },
      args: ['--bind', '127.0.0.1:0'],
    });
    expect(r.code, r.proc.describe()).toBe(2);
    expect(r.stderr.split('\n')).toContain(`mero-auth: ${PASSWORD_WITHOUT_USER}`);
  });

  it('an unreadable password file: exit 2 naming the variable and the path', async () => {
    const cwd = await tempDir();
    const file = join(cwd, 'missing-password');
    const r = await runCli({
      cwd,
      env: { ...FAST_ENV, MERO_AUTH_ADMIN_USER: 'admin', MERO_AUTH_ADMIN_PASSWORD_FILE: file },
      args: ['--bind', '127.0.0.1:0'],
    });
    expect(r.code, r.proc.describe()).toBe(2);
    expect(r.stderr).toContain(`failed to read MERO_AUTH_ADMIN_PASSWORD_FILE=${file}: `);
  });

  it('MERO_AUTH_ADMIN_PASSWORD_FILE with a trailing newline provisions the stripped password, and wins', async () => {
    const cwd = await tempDir();
    const password = `file-${randomBytes(9).toString('base64url')}`;
    const file = join(cwd, 'admin-password');
    await writeFile(file, `${password}\n`);
    const svc = await startService({
      cwd,
      env: {
        ...FAST_ENV,
        MERO_AUTH_ADMIN_USER: 'admin',
        MERO_AUTH_ADMIN_PASSWORD_FILE: file,
        MERO_AUTH_ADMIN_PASSWORD: 'the-env-password-loses',
      },
    });
    expect((await login(svc.url, 'admin', password)).status).toBe(200);
    expect((await login(svc.url, 'admin', `${password}\n`)).status).toBe(401);
    expect((await login(svc.url, 'admin', 'the-env-password-loses')).status).toBe(401);
    expect(svc.stderr).not.toContain(password);
  });

  it('once an account exists, a partial set of variables is not an error', async () => {
    const cwd = await tempDir();
    const password = `first-${randomBytes(9).toString('base64url')}`;
    const first = await startService({
      cwd,
      env: { ...FAST_ENV, MERO_AUTH_ADMIN_USER: 'admin', MERO_AUTH_ADMIN_PASSWORD: password },
    });
    expect(await first.stop()).toEqual({ code: 0, signal: null });
    const second = await startService({ cwd, env: { ...FAST_ENV, MERO_AUTH_ADMIN_USER: 'admin' } });
    expect((await login(second.url, 'admin', password)).status).toBe(200);
  });
});
