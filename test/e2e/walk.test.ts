/**
 * The acceptance walk against the real process (wire §3.2–§3.4, §4.7, §8.1): login, validate,
 * the refresh rules, reuse detection, failed logins and the lockout; then a graceful stop and a
 * check that nothing secret reached the logs.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LevelStore } from '../../src/storage/level.js';
import { PRIMARY_KEY, openRecord } from '../../src/secrets/record.js';
import { claims, login, loginOk, pairOf, refresh, validate, waitUntilExpired, type TokenPair } from './client.js';
import { FAST_ENV, startService, tempDir } from './process.js';

const INVALID_CREDENTIALS = 'Authentication failed: Authentication failed: Invalid username or password';

describe('acceptance walk', () => {
  it('login, validate, refresh, reuse detection, lockout; clean stop; no secrets in the logs', async () => {
    const cwd = await tempDir();
    const password = `walk-${randomBytes(12).toString('base64url')}`;
    const svc = await startService({
      cwd,
      args: ['-vv'], // the most verbose logging: the secrecy check below covers trace lines too
      env: { ...FAST_ENV, MERO_AUTH_ADMIN_USER: 'admin', MERO_AUTH_ADMIN_PASSWORD: password },
    });
    const tokens: string[] = [];
    const keep = (p: TokenPair) => {
      tokens.push(p.access_token, p.refresh_token);
      return p;
    };

    // Login (§3.2).
    const loginReply = await login(svc.url, 'admin', password);
    expect(loginReply.status, loginReply.text).toBe(200);
    expect(loginReply.json).toEqual({
      data: { access_token: expect.any(String), refresh_token: expect.any(String), error: null },
      error: null,
    });
    const first = keep(pairOf(loginReply));
    const keyId = claims(first.access_token).sub as string;
    expect(keyId).toMatch(/\S/);

    // Validate, GET and HEAD (§3.4).
    const got = await validate(svc.url, first.access_token, 'GET');
    expect(got.status, got.text).toBe(200);
    expect(got.json).toEqual({ data: '', error: null });
    expect(got.headers.get('x-auth-user')).toBe(keyId);
    expect(got.headers.get('x-auth-permissions')).toBe('admin');
    const head = await validate(svc.url, first.access_token, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.get('x-auth-user')).toBe(keyId);

    // A still-valid access token cannot be exchanged (§3.3 step 3), and never says token_expired.
    const early = await refresh(svc.url, first.access_token, first.refresh_token);
    expect(early.status, early.text).toBe(401);
    expect(early.json).toEqual({ data: null, error: 'Access token still valid' });
    expect(early.headers.get('x-auth-error')).toBeNull();

    // Wait for the state "expired" (the one place real time passes).
    const expired = await waitUntilExpired(svc.url, first.access_token);
    expect(expired.status, expired.text).toBe(401);
    expect(expired.headers.get('x-auth-error')).toBe('token_expired');
    expect(expired.json).toEqual({ data: null, error: 'Invalid token: Token has expired' });

    // Now the exchange succeeds (§4.7), with a rotated pair on the same key.
    const exchanged = await refresh(svc.url, first.access_token, first.refresh_token);
    expect(exchanged.status, exchanged.text).toBe(200);
    expect(exchanged.json).toEqual({
      data: { access_token: expect.any(String), refresh_token: expect.any(String), error: null },
      error: null,
    });
    const second = keep(pairOf(exchanged));
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(claims(second.access_token).sub).toBe(keyId);
    expect(claims(second.refresh_token).sid).toBe(claims(first.refresh_token).sid);

    // Replaying the consumed refresh token is reuse: 401 token_reuse, and the session dies.
    const replay = await refresh(svc.url, first.access_token, first.refresh_token);
    expect(replay.status, replay.text).toBe(401);
    expect(replay.headers.get('x-auth-error')).toBe('token_reuse');
    expect(replay.json).toEqual({ data: null, error: 'Refresh token reuse detected; re-authentication required' });

    const revoked = await validate(svc.url, second.access_token);
    expect(revoked.status, revoked.text).toBe(403);
    expect(revoked.headers.get('x-auth-error')).toBe('token_revoked');
    expect(revoked.json).toEqual({ data: null, error: 'Session has been revoked' });
    // The successor refresh token is dead too (paired with the expired access token of the same
    // subject, so the "still valid" rule does not apply).
    const deadRefresh = await refresh(svc.url, first.access_token, second.refresh_token);
    expect(deadRefresh.status, deadRefresh.text).toBe(403);
    expect(deadRefresh.headers.get('x-auth-error')).toBe('token_revoked');
    expect(deadRefresh.json).toEqual({ data: null, error: 'Session has been revoked' });

    // Reuse on a root family ends the session, not the account: a fresh login works.
    const again = keep(await loginOk(svc.url, 'admin', password));
    expect(claims(again.access_token).sub).toBe(keyId);

    // Wrong password: five 401s with the one message and no X-Auth-Error...
    for (let i = 1; i <= 5; i++) {
      const wrong = await login(svc.url, 'admin', `${password}-wrong`);
      expect(wrong.status, `attempt ${i}: ${wrong.text}`).toBe(401);
      expect(wrong.json).toEqual({ data: null, error: INVALID_CREDENTIALS });
      expect(wrong.headers.get('x-auth-error')).toBeNull();
    }
    // ...and the sixth failure inside the window is locked out (§8.1), the right password too.
    for (const attempt of [`${password}-wrong`, password]) {
      const locked = await login(svc.url, 'admin', attempt);
      expect(locked.status, locked.text).toBe(429);
      expect(locked.json).toEqual({ data: null, error: 'Too many failed login attempts; please try again later' });
      const retryAfter = locked.headers.get('retry-after');
      expect(retryAfter).toMatch(/^\d+$/);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    }

    // Graceful stop (§7.8).
    expect(await svc.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    // The signing secret, read back from the stopped store; proven by checking a signature.
    const dataPath = join(cwd, 'data', 'auth');
    const kek = new Uint8Array(await readFile(`${dataPath}.kek`));
    const store = await LevelStore.open(dataPath);
    let secret: string;
    try {
      const blob = await store.get(PRIMARY_KEY);
      expect(blob).toBeDefined();
      secret = openRecord(kek, PRIMARY_KEY, blob as Uint8Array).record.value;
    } finally {
      await store.close();
    }
    const [h, p, sig] = first.access_token.split('.');
    expect(createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${h}.${p}`).digest('base64url')).toBe(sig);

    // Nothing secret in the logs: not the password, not a token (nor its signature), not the secret.
    const logs = svc.stderr;
    expect(svc.logRecords().length).toBeGreaterThan(0);
    const leaks = [
      ['password', password],
      ['signing secret', secret],
      ['KEK (base64)', Buffer.from(kek).toString('base64')],
      ['KEK (hex)', Buffer.from(kek).toString('hex')],
      ...tokens.flatMap((t, i) => [
        [`token #${i}`, t],
        [`token #${i} signature`, t.split('.')[2] as string],
      ]),
    ].filter(([, value]) => logs.includes(value as string));
    expect(leaks.map(([name]) => name)).toEqual([]);
  });
});
