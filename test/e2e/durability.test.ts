/**
 * The store across process lifetimes (wire §6.1, §7.5, §7.8): an acknowledged login survives
 * kill -9, a clean SIGTERM exits 0 with the data intact, one process per data directory, and the
 * data directory's permissions.
 */
import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claims, login, loginOk, refresh, request, validate, waitUntilExpired } from './client.js';
import { FAST_ENV, runCli, spawnCli, startService, tempDir } from './process.js';

const newPassword = (tag: string) => `${tag}-${randomBytes(9).toString('base64url')}`;
/** The CLI's lock message names the absolute path and what to do (issue 12). */
const LOCKED = (path: string) =>
  `mero-auth: the data directory ${path} is locked by another process (LevelDB's LOCK): is mero-auth already running? ` +
  'Stop the running service first';

describe('kill -9 durability', () => {
  it('an acknowledged login survives SIGKILL: the account, the access token and the session', async () => {
    const cwd = await tempDir();
    const password = newPassword('durable');
    const first = await startService({
      cwd,
      env: { ...FAST_ENV, MERO_AUTH_ADMIN_USER: 'admin', MERO_AUTH_ADMIN_PASSWORD: password },
    });
    const pair = await loginOk(first.url, 'admin', password); // acknowledged: 200
    expect(await first.kill9()).toEqual({ code: null, signal: 'SIGKILL' });

    // Restart on the same directory without the admin variables. A large leeway keeps the 1 s
    // access token acceptable however long the restart takes.
    const second = await startService({ cwd, env: { ...FAST_ENV, AUTH__JWT__LEEWAY_SECONDS: '300' } });
    expect(second.stderr).not.toContain('no account exists');
    const providers = await request(`${second.url}/auth/providers`);
    expect(providers.json.data.providers[0].configured).toBe(true);
    const stillValid = await validate(second.url, pair.access_token);
    expect(stillValid.status, stillValid.text).toBe(200);
    expect(stillValid.headers.get('x-auth-user')).toBe(claims(pair.access_token).sub);
    const relogin = await loginOk(second.url, 'admin', password);
    expect(claims(relogin.access_token).sub).toBe(claims(pair.access_token).sub);
    expect(await second.kill9()).toEqual({ code: null, signal: 'SIGKILL' });

    // Third start with no leeway: once the access token has expired, the session's refresh
    // token (minted before the first kill) still exchanges.
    const third = await startService({ cwd, env: FAST_ENV });
    const expired = await waitUntilExpired(third.url, pair.access_token);
    expect(expired.headers.get('x-auth-error')).toBe('token_expired');
    const exchanged = await refresh(third.url, pair.access_token, pair.refresh_token);
    expect(exchanged.status, exchanged.text).toBe(200);
    const next = exchanged.json.data as { access_token: string };
    expect(claims(next.access_token).sid).toBe(claims(pair.access_token).sid);
    const ok = await validate(third.url, next.access_token);
    expect(ok.status, ok.text).toBe(200);
    expect(await third.stop()).toEqual({ code: 0, signal: null });
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM exits 0 and a restart finds the account and the signing secret intact', async () => {
    const cwd = await tempDir();
    const password = newPassword('graceful');
    const svc = await startService({
      cwd,
      env: { ...FAST_ENV, MERO_AUTH_ADMIN_USER: 'admin', MERO_AUTH_ADMIN_PASSWORD: password },
    });
    const health = await request(`${svc.url}/auth/health`);
    expect(health.status).toBe(200);
    expect(health.json.data).toMatchObject({ status: 'alive', storage: true });
    const ready = await request(`${svc.url}/auth/ready`);
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ data: { status: 'ready', storage: true, secrets: true }, error: null });
    const pair = await loginOk(svc.url, 'admin', password);

    expect(await svc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    // The shutdown is logged, and the log is flushed before the exit.
    const messages = svc.logRecords().map((r) => r.msg);
    expect(messages.slice(-2)).toEqual(['shutting down', 'stopped']);

    const again = await startService({ cwd, env: { ...FAST_ENV, AUTH__JWT__LEEWAY_SECONDS: '300' } });
    expect(again.stderr).not.toContain('no account exists');
    const relogin = await loginOk(again.url, 'admin', password);
    expect(claims(relogin.access_token).sub).toBe(claims(pair.access_token).sub);
    // The signing secret survived too: the token minted before the stop still verifies.
    expect((await validate(again.url, pair.access_token)).status).toBe(200);
    expect(await again.stop('SIGINT')).toEqual({ code: 0, signal: null });
  });
});

describe('one process per data directory', () => {
  it('a second service on the same directory exits 1 with the lock message; the first keeps serving', async () => {
    const cwd = await tempDir();
    const first = await startService({ cwd, env: FAST_ENV });

    const second = await runCli({ cwd, env: FAST_ENV, args: ['--bind', '127.0.0.1:0'] });
    expect(second.code, second.proc.describe()).toBe(1);
    expect(second.stderr).toContain(LOCKED(join(cwd, 'data', 'auth')));
    expect((await request(`${first.url}/auth/health`)).status).toBe(200);
    expect(await first.stop()).toEqual({ code: 0, signal: null });

    // The message names the configured path, made absolute.
    const custom = { ...FAST_ENV, AUTH__STORAGE__PATH: './state/db' };
    const owner = await startService({ cwd, env: custom });
    const rival = await runCli({ cwd, env: custom, args: ['--bind', '127.0.0.1:0'] });
    expect(rival.code, rival.proc.describe()).toBe(1);
    expect(rival.stderr).toContain(LOCKED(join(cwd, 'state', 'db')));
    expect(await owner.stop()).toEqual({ code: 0, signal: null });
  });
});

describe('data directory permissions', () => {
  it('data/ and data/auth are 0700, data/auth.kek is 0600 with 32 bytes, store files 0600', async () => {
    const cwd = await tempDir();
    const svc = await startService({ cwd, env: FAST_ENV });
    const mode = async (p: string) => ((await stat(p)).mode & 0o777).toString(8);

    expect(await mode(join(cwd, 'data'))).toBe('700');
    expect(await mode(join(cwd, 'data', 'auth'))).toBe('700');
    const kek = await stat(join(cwd, 'data', 'auth.kek'));
    expect((kek.mode & 0o777).toString(8)).toBe('600');
    expect(kek.size).toBe(32);
    const files = await readdir(join(cwd, 'data', 'auth'), { withFileTypes: true });
    expect(files.length).toBeGreaterThan(0);
    for (const f of files.filter((e) => e.isFile())) {
      expect(`${f.name}: ${await mode(join(cwd, 'data', 'auth', f.name))}`).toBe(`${f.name}: 600`);
    }
    expect(await svc.stop()).toEqual({ code: 0, signal: null });
  });
});

describe('login limiter is per process (wire §8.1)', () => {
  it('a restart after SIGKILL mid-lockout clears the lockout; the account remains', async () => {
    const cwd = await tempDir();
    const password = newPassword('lockout');
    const svc = await startService({
      cwd,
      env: { ...FAST_ENV, MERO_AUTH_ADMIN_USER: 'admin', MERO_AUTH_ADMIN_PASSWORD: password },
    });
    for (let i = 0; i < 5; i++) expect((await login(svc.url, 'admin', 'wrong-password')).status).toBe(401);
    expect((await login(svc.url, 'admin', password)).status).toBe(429);
    await svc.kill9();
    const again = spawnCli({ cwd, env: FAST_ENV, args: ['--bind', '127.0.0.1:0'] });
    const line = await again.waitForLine((l) => l.includes('listening on 127.0.0.1:'), 'listening line');
    const port = /listening on 127\.0\.0\.1:(\d+)/.exec(line)?.[1];
    expect(port).toBeDefined();
    expect((await login(`http://127.0.0.1:${port}`, 'admin', password)).status).toBe(200);
    expect(await again.stop()).toEqual({ code: 0, signal: null });
  });
});
