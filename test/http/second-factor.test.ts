/**
 * The per-account second factor (issue 13): `GET/PUT /admin/second-factor`, TOTP enrolment
 * (`POST /admin/totp`, `POST /admin/totp/confirm`), the step-up answer of a password login,
 * TOTP codes and recovery codes in `provider_data`, replay refusal, rate limits. Times come
 * from the frozen clock: TOTP codes are made with otpauth for the clock's instant.
 */
import * as OTPAuth from 'otpauth';
import { afterEach, describe, expect, it } from 'vitest';
import { expectErr } from '../helpers/http.js';
import { ADMIN, makeTestService, type TestService } from '../helpers/service.js';
import { SoftAuthenticator } from '../helpers/webauthn.js';
import type { Core } from '../../src/core.js';
import { resetSecondFactor } from '../../src/second-factor/reset.js';
import { createLogger } from '../../src/util/logger.js';
import { call, dataOf } from './admin-fixtures.js';

const RP_ID = 'node.example.com';
const ORIGIN = 'https://node.example.com';
const PASSKEY = { providers: { passkey: { enabled: true, rp_id: RP_ID, origins: [ORIGIN] } } };

const services: TestService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});
async function service(opts: Parameters<typeof makeTestService>[1] = {}): Promise<TestService> {
  const t = await makeTestService(PASSKEY, opts);
  services.push(t);
  return t;
}

const tokenOf = async (t: TestService): Promise<string> => {
  const { access, res } = await t.login();
  expect(res.status).toBe(200);
  return access;
};

/** A password login with extra provider_data (a TOTP code, a recovery code). */
const login = (t: TestService, extra: Record<string, unknown> = {}, password = ADMIN.password) =>
  t.post('/auth/token', {
    auth_method: 'user_password',
    public_key: 'admin',
    client_name: 'mero-js-sdk',
    timestamp: 1_700_000_000,
    provider_data: { username: 'admin', password, ...extra },
  });

const codeAt = (t: TestService, secret: string): string =>
  new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({
    timestamp: t.clock.nowMs(),
  });

/** Enrols TOTP for the admin; returns the seed and the recovery codes. */
async function enrolTotp(t: TestService, token: string): Promise<{ secret: string; recovery: string[] }> {
  const start = await dataOf<{ secret: string; otpauth_uri: string; qr_svg: string }>(
    await call(t, 'POST', '/admin/totp', { token }),
  );
  const done = await dataOf<{ recovery_codes: string[] }>(
    await call(t, 'POST', '/admin/totp/confirm', { token, body: { code: codeAt(t, start.secret) } }),
  );
  return { secret: start.secret, recovery: done.recovery_codes };
}

const TOTP_STEP_UP =
  'Second factor required: totp. Send the password again with provider_data.totp_code (or provider_data.recovery_code)';

describe('second factor: status and TOTP enrolment', () => {
  it('starts at none; enrolment shows a QR and a sealed pending seed; a code from it turns TOTP on with ten recovery codes', async () => {
    const t = await service();
    const token = await tokenOf(t);
    expect(await dataOf(await call(t, 'GET', '/admin/second-factor', { token }))).toEqual({
      username: 'admin',
      second_factor: 'none',
      totp_enrolled: false,
      recovery_codes_left: 0,
      passkeys: [],
      passkeys_enabled: true,
    });
    const start = await dataOf<{ secret: string; otpauth_uri: string; qr_svg: string }>(
      await call(t, 'POST', '/admin/totp', { token }),
    );
    expect(start.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(start.otpauth_uri).toBe(
      `otpauth://totp/mero-auth:admin?issuer=mero-auth&secret=${start.secret}&algorithm=SHA1&digits=6&period=30`,
    );
    expect(Buffer.from(start.qr_svg.replace(/^data:image\/svg\+xml;base64,/, ''), 'base64').toString()).toMatch(/^<svg /);
    // Sealed at rest: the seed never appears in the store in clear.
    const raw = Buffer.from((await t.svc.core.store.get('mfa:admin')) ?? new Uint8Array()).toString();
    expect(raw).not.toContain(start.secret);
    expect(JSON.parse(raw)).toMatchObject({ second_factor: 'none', totp: null, totp_pending: { created_at: 1_700_000_000 } });

    await expectErr(await call(t, 'POST', '/admin/totp/confirm', { token, body: { code: '000000' } }), 400, 'Wrong code');
    const done = await dataOf<{ recovery_codes: string[] }>(
      await call(t, 'POST', '/admin/totp/confirm', { token, body: { code: codeAt(t, start.secret) } }),
    );
    expect(done.recovery_codes).toHaveLength(10);
    expect(new Set(done.recovery_codes).size).toBe(10);
    for (const c of done.recovery_codes) expect(c).toMatch(/^[0-9a-f]{5}-[0-9a-f]{5}-[0-9a-f]{5}-[0-9a-f]{5}$/);
    const stored = Buffer.from((await t.svc.core.store.get('mfa:admin')) ?? new Uint8Array()).toString();
    for (const c of done.recovery_codes) expect(stored).not.toContain(c);
    expect(await dataOf(await call(t, 'GET', '/admin/second-factor', { token }))).toMatchObject({
      second_factor: 'totp',
      totp_enrolled: true,
      recovery_codes_left: 10,
    });
  });

  it('confirm without an enrolment, and totp without a confirmed seed, are refused', async () => {
    const t = await service();
    const token = await tokenOf(t);
    await expectErr(
      await call(t, 'POST', '/admin/totp/confirm', { token, body: { code: '123456' } }),
      400,
      'No TOTP enrolment in progress: start one first',
    );
    await expectErr(
      await call(t, 'PUT', '/admin/second-factor', { token, body: { second_factor: 'totp' } }),
      400,
      'Enrol TOTP first (POST /admin/totp)',
    );
    const bad = await call(t, 'PUT', '/admin/second-factor', { token, body: { second_factor: 'sms' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(
      /^Invalid JSON: Failed to deserialize the JSON body into the target type: second_factor/,
    );
  });
});

describe('second factor: password sign-in with TOTP', () => {
  it('the password alone answers the step-up error; with a TOTP code it signs in', async () => {
    const t = await service();
    const { secret } = await enrolTotp(t, await tokenOf(t));
    t.clock.advanceSeconds(30);
    await expectErr(await login(t), 401, TOTP_STEP_UP);
    const res = await login(t, { totp_code: codeAt(t, secret) });
    expect(res.status).toBe(200);
    expect(Object.keys(((await res.json()) as { data: object }).data)).toEqual(['access_token', 'refresh_token', 'error']);
  });

  it('a wrong password is still the one password answer, whatever the code', async () => {
    const t = await service();
    const { secret } = await enrolTotp(t, await tokenOf(t));
    await expectErr(
      await login(t, { totp_code: codeAt(t, secret) }, 'wrong password!'),
      401,
      'Authentication failed: Authentication failed: Invalid username or password',
    );
  });

  it('an account without a second factor answers exactly as before (extra fields are ignored)', async () => {
    const t = await service();
    expect((await login(t)).status).toBe(200);
    expect((await login(t, { totp_code: '123456', recovery_code: 'x' })).status).toBe(200);
    await expectErr(
      await login(t, {}, 'nope nope'),
      401,
      'Authentication failed: Authentication failed: Invalid username or password',
    );
  });
});

describe('Security: TOTP and recovery codes', () => {
  it('a TOTP code is accepted once: its replay inside the window is refused', async () => {
    const t = await service();
    const { secret } = await enrolTotp(t, await tokenOf(t));
    // The code that confirmed the enrolment (same instant, same step) cannot sign in.
    await expectErr(
      await login(t, { totp_code: codeAt(t, secret) }),
      401,
      'Authentication failed: Authentication failed: This code was already used: wait for the next one',
    );
    t.clock.advanceSeconds(30);
    const code = codeAt(t, secret);
    expect((await login(t, { totp_code: code })).status).toBe(200);
    await expectErr(
      await login(t, { totp_code: code }),
      401,
      'Authentication failed: Authentication failed: This code was already used: wait for the next one',
    );
    // Still inside the ±1 step window, the same code stays refused.
    t.clock.advanceSeconds(20);
    expect((await login(t, { totp_code: code })).status).toBe(401);
    // The next step's code works.
    t.clock.advanceSeconds(30);
    expect((await login(t, { totp_code: codeAt(t, secret) })).status).toBe(200);
  });

  it('concurrent sign-ins with one TOTP code, or one recovery code: exactly one succeeds', async () => {
    const t = await service();
    const { secret, recovery } = await enrolTotp(t, await tokenOf(t));
    t.clock.advanceSeconds(30);
    const code = codeAt(t, secret);
    const totp = await Promise.all([1, 2, 3].map(() => login(t, { totp_code: code })));
    expect(totp.map((r) => r.status).sort()).toEqual([200, 401, 401]);
    const rc = recovery[0] as string;
    const spent = await Promise.all([1, 2, 3].map(() => login(t, { recovery_code: rc })));
    expect(spent.map((r) => r.status).sort()).toEqual([200, 401, 401]);
  });

  it('a code from outside the window, or not six digits, is wrong', async () => {
    const t = await service();
    const { secret } = await enrolTotp(t, await tokenOf(t));
    const old = codeAt(t, secret);
    t.clock.advanceSeconds(120);
    await expectErr(await login(t, { totp_code: old }), 401, 'Authentication failed: Authentication failed: Wrong TOTP code');
    await expectErr(await login(t, { totp_code: '12345' }), 401, 'Authentication failed: Authentication failed: Wrong TOTP code');
  });

  it('a recovery code works once; the second use is refused', async () => {
    const t = await service();
    const { recovery } = await enrolTotp(t, await tokenOf(t));
    const code = recovery[3] as string;
    expect((await login(t, { recovery_code: code.toUpperCase().replace(/-/g, ' ') })).status).toBe(200);
    await expectErr(
      await login(t, { recovery_code: code }),
      401,
      'Authentication failed: Authentication failed: Recovery code not valid (each code works once)',
    );
    const token = await dataOf<{ access_token: string }>(await login(t, { recovery_code: recovery[4] as string }));
    expect(await dataOf(await call(t, 'GET', '/admin/second-factor', { token: token.access_token }))).toMatchObject({
      recovery_codes_left: 8,
    });
  });

  it('wrong codes are rate-limited like passwords: 429 after five, even for the right code', async () => {
    const t = await service();
    const { secret } = await enrolTotp(t, await tokenOf(t));
    t.clock.advanceSeconds(30);
    for (let i = 0; i < 5; i++) expect((await login(t, { totp_code: '000000' })).status).toBe(401);
    const locked = await login(t, { totp_code: codeAt(t, secret) });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('wrong codes are limited per account: a new public_key for each guess still hits 429 after five (and it is logged)', async () => {
    const t = await service();
    const { secret } = await enrolTotp(t, await tokenOf(t));
    const lines: Array<Record<string, unknown>> = [];
    (t.svc.core as { log: Core['log'] }).log = createLogger('info', { write: (l: string) => lines.push(JSON.parse(l)) });
    t.clock.advanceSeconds(30);
    const guess = (i: number, extra: Record<string, unknown>) =>
      t.post('/auth/token', {
        auth_method: 'user_password',
        public_key: `rotating-${i}`,
        client_name: 'mero-js-sdk',
        timestamp: 1_700_000_000,
        provider_data: { username: 'admin', password: ADMIN.password, ...extra },
      });
    for (let i = 0; i < 5; i++) {
      await expectErr(
        await guess(i, { totp_code: '000000' }),
        401,
        'Authentication failed: Authentication failed: Wrong TOTP code',
      );
    }
    // A wrong recovery code counts in the same bucket; the right TOTP code is refused while it is full.
    const locked = await guess(5, { totp_code: codeAt(t, secret) });
    await expectErr(locked, 429, 'Too many wrong second-factor codes for this account; please try again later');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await guess(6, { recovery_code: 'aaaaa-bbbbb-ccccc-ddddd' })).status).toBe(429);
    expect(lines.filter((l) => l.level === 'warn' && l.msg === 'second-factor codes rate-limited for this account')).toHaveLength(
      2,
    );
    // After the window the right code signs in again.
    t.clock.advanceSeconds(61);
    expect((await guess(7, { totp_code: codeAt(t, secret) })).status).toBe(200);
  });

  it('Security: twenty wrong recovery codes at once, each with its own public_key: five are checked, fifteen refused', async () => {
    // Four hashing slots, so the passwords are checked side by side.
    const t = await service({ hashPool: { slots: 4, queue: 64 } });
    await enrolTotp(t, await tokenOf(t));
    t.clock.advanceSeconds(30);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.post('/auth/token', {
          auth_method: 'user_password',
          public_key: `burst-${i}`,
          client_name: 'mero-js-sdk',
          timestamp: 1_700_000_000,
          provider_data: { username: 'admin', password: ADMIN.password, recovery_code: `aaaaa-bbbbb-ccccc-${10000 + i}` },
        }),
      ),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((st) => st === 401)).toHaveLength(5);
    expect(statuses.filter((st) => st === 429)).toHaveLength(15);
  });

  it('the step-up answer counts as a failure, so it is no unlimited password oracle', async () => {
    const t = await service();
    await enrolTotp(t, await tokenOf(t));
    for (let i = 0; i < 5; i++) expect((await login(t)).status).toBe(401);
    expect((await login(t)).status).toBe(429);
  });
});

describe('Security: changing second factors needs a recent sign-in', () => {
  const REAUTH = 'Changing second factors needs a recent sign-in: sign in again, then retry';
  /** Every second-factor change, each with a body that would otherwise get past extraction. */
  const CHANGES: Array<[string, string, unknown]> = [
    ['POST', '/admin/passkeys/options', undefined],
    [
      'POST',
      '/admin/passkeys',
      {
        attempt_id: 'x',
        response: {
          id: 'a',
          rawId: 'a',
          type: 'public-key',
          response: { clientDataJSON: 'a', attestationObject: 'a' },
          clientExtensionResults: {},
        },
      },
    ],
    ['DELETE', '/admin/passkeys/some-credential', undefined],
    ['PUT', '/admin/second-factor', { second_factor: 'none' }],
    ['POST', '/admin/totp', undefined],
    ['POST', '/admin/totp/confirm', { code: '123456' }],
  ];

  it('a token whose session was opened longer ago than reauth_seconds is refused on every change; reading stays allowed', async () => {
    const t = await service();
    const token = await tokenOf(t);
    t.clock.advanceSeconds(301); // the access token (30 minutes) is still valid; the sign-in is not recent
    for (const [method, path, body] of CHANGES) {
      await expectErr(await call(t, method, path, { token, ...(body === undefined ? {} : { body }) }), 403, REAUTH);
    }
    expect(await t.svc.core.store.scan('mfa:')).toEqual([]);
    expect(await t.svc.core.store.scan('passkey:')).toEqual([]);
    expect((await call(t, 'GET', '/admin/passkeys', { token })).status).toBe(200);
    expect((await call(t, 'GET', '/admin/second-factor', { token })).status).toBe(200);
  });

  it('at exactly reauth_seconds the session still may; a refresh does not renew it, a new sign-in does', async () => {
    const t = await service();
    const first = await t.login();
    t.clock.advanceSeconds(300);
    expect((await call(t, 'POST', '/admin/totp', { token: first.access })).status).toBe(200);
    t.clock.advanceSeconds(1800); // the access token expired: refresh the pair
    const res = await t.post(
      '/auth/refresh',
      { access_token: first.access, refresh_token: first.refresh },
      { host: 'localhost:3001' },
    );
    expect(res.status).toBe(200);
    const refreshed = ((await res.json()) as { data: { access_token: string } }).data.access_token;
    await expectErr(await call(t, 'POST', '/admin/totp', { token: refreshed }), 403, REAUTH);
    await expectErr(
      await call(t, 'PUT', '/admin/second-factor', { token: refreshed, body: { second_factor: 'none' } }),
      403,
      REAUTH,
    );
    // A fresh sign-in (a new session) may change second factors again.
    const fresh = await tokenOf(t);
    const { secret } = await enrolTotp(t, fresh);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect((await call(t, 'GET', '/admin/second-factor', { token: refreshed })).status).toBe(200);
  });

  it('the window is second_factor.reauth_seconds', async () => {
    const t = await makeTestService({ ...PASSKEY, second_factor: { reauth_seconds: 60 } });
    services.push(t);
    const token = await tokenOf(t);
    t.clock.advanceSeconds(61);
    await expectErr(await call(t, 'POST', '/admin/passkeys/options', { token }), 403, REAUTH);
  });
});

describe('second factor: passkey required', () => {
  it('needs a registered passkey; then a password login steps up to a passkey, and the last passkey cannot be removed', async () => {
    const t = await service();
    const token = await tokenOf(t);
    await expectErr(
      await call(t, 'PUT', '/admin/second-factor', { token, body: { second_factor: 'passkey' } }),
      400,
      'Register a passkey first',
    );
    const auth = new SoftAuthenticator(RP_ID, ORIGIN);
    const start = await dataOf<{ attempt_id: string; options: { challenge: string; user: { id: string } } }>(
      await call(t, 'POST', '/admin/passkeys/options', { token }),
    );
    const { credential_id } = await dataOf<{ credential_id: string }>(
      await call(t, 'POST', '/admin/passkeys', {
        token,
        body: { attempt_id: start.attempt_id, response: auth.register(start.options) },
      }),
    );
    const set = await dataOf<{ second_factor: string; recovery_codes: string[] }>(
      await call(t, 'PUT', '/admin/second-factor', { token, body: { second_factor: 'passkey' } }),
    );
    expect(set.second_factor).toBe('passkey');
    expect(set.recovery_codes).toHaveLength(10);

    await expectErr(
      await login(t),
      401,
      'Second factor required: passkey. Sign in with a passkey (auth_method "passkey"), or send the password again with provider_data.recovery_code',
    );
    // A TOTP code is no way around a passkey policy.
    await expectErr(
      await login(t, { totp_code: '123456' }),
      401,
      ((await login(t).then((r) => r.json())) as { error: string }).error,
    );
    await expectErr(
      await call(t, 'DELETE', `/admin/passkeys/${credential_id}`, { token }),
      400,
      'This is the last passkey and the account requires one: change second_factor first',
    );
    expect((await login(t, { recovery_code: set.recovery_codes[0] as string })).status).toBe(200);
    const opts = await dataOf<{ attempt_id: string; options: { challenge: string } }>(
      await call(t, 'POST', '/auth/passkey/options', { body: {} }),
    );
    const res = await t.post('/auth/token', {
      auth_method: 'passkey',
      public_key: 'admin',
      client_name: 'mero-js-sdk',
      timestamp: 1,
      provider_data: { attempt_id: opts.attempt_id, response: auth.assert(opts.options) },
    });
    expect(res.status).toBe(200);

    // Back to none: the password alone signs in again.
    expect(await dataOf(await call(t, 'PUT', '/admin/second-factor', { token, body: { second_factor: 'none' } }))).toEqual({
      second_factor: 'none',
      recovery_codes: [],
    });
    t.clock.advanceSeconds(61); // past the rate-limit window of the step-up answers above
    expect((await login(t)).status).toBe(200);
  });
});

describe('Security: confirming TOTP never weakens a passkey policy', () => {
  it('with second_factor passkey, a confirmed TOTP enrolment leaves the policy at passkey; from none it becomes totp', async () => {
    const t = await service();
    const token = await tokenOf(t);
    const auth = new SoftAuthenticator(RP_ID, ORIGIN);
    const start = await dataOf<{ attempt_id: string; options: { challenge: string; user: { id: string } } }>(
      await call(t, 'POST', '/admin/passkeys/options', { token }),
    );
    expect(
      (
        await call(t, 'POST', '/admin/passkeys', {
          token,
          body: { attempt_id: start.attempt_id, response: auth.register(start.options) },
        })
      ).status,
    ).toBe(200);
    expect((await call(t, 'PUT', '/admin/second-factor', { token, body: { second_factor: 'passkey' } })).status).toBe(200);
    await enrolTotp(t, token);
    expect(await dataOf(await call(t, 'GET', '/admin/second-factor', { token }))).toMatchObject({
      second_factor: 'passkey',
      totp_enrolled: true,
    });
    // The password with a TOTP code is still no way around the passkey policy.
    expect((await login(t, { totp_code: '123456' })).status).toBe(401);

    const other = await service();
    const otherToken = await tokenOf(other);
    await enrolTotp(other, otherToken);
    expect(await dataOf(await call(other, 'GET', '/admin/second-factor', { token: otherToken }))).toMatchObject({
      second_factor: 'totp',
    });
  });
});

describe('recovery: resetSecondFactor (set-admin --reset-second-factor)', () => {
  it('removes the policy, seed, recovery codes and passkeys of one account; the password alone signs in again', async () => {
    const t = await service();
    const token = await tokenOf(t);
    const auth = new SoftAuthenticator(RP_ID, ORIGIN);
    const start = await dataOf<{ attempt_id: string; options: { challenge: string; user: { id: string } } }>(
      await call(t, 'POST', '/admin/passkeys/options', { token }),
    );
    await call(t, 'POST', '/admin/passkeys', {
      token,
      body: { attempt_id: start.attempt_id, response: auth.register(start.options) },
    });
    await enrolTotp(t, token);
    await expectErr(await login(t), 401, TOTP_STEP_UP);
    expect(await resetSecondFactor(t.svc.core, 'ADMIN')).toEqual({ username: 'admin', passkeys: 1 });
    expect(await resetSecondFactor(t.svc.core, 'nobody')).toBeUndefined();
    expect(await t.svc.core.store.get('mfa:admin')).toBeUndefined();
    expect(await t.svc.core.store.scan('passkey:')).toEqual([]);
    expect((await login(t)).status).toBe(200);
  });
});
