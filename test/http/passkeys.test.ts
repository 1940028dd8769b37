/**
 * Passkeys (issue 13): registration for the signed-in account (`POST /admin/passkeys/options`,
 * `POST /admin/passkeys`, list, delete) and sign-in (`POST /auth/passkey/options`, then
 * `POST /auth/token` with `auth_method: "passkey"`), driven by a software authenticator that
 * makes real ES256 credentials (test/helpers/webauthn.ts). Every refusal the issue names has a
 * test: wrong origin, wrong RP ID, reused or expired challenge, counter rollback, unknown
 * credential.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Core } from '../../src/core.js';
import { createLogger } from '../../src/util/logger.js';
import { addUser, expectErr } from '../helpers/http.js';
import { makeTestService, type TestService } from '../helpers/service.js';
import { FLAG, SoftAuthenticator } from '../helpers/webauthn.js';
import { call, dataOf } from './admin-fixtures.js';

const RP_ID = 'node.example.com';
const ORIGIN = 'https://node.example.com';
const PASSKEY = { providers: { passkey: { enabled: true, rp_id: RP_ID, origins: [ORIGIN], challenge_ttl_seconds: 60 } } };

const services: TestService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});
async function service(config: Parameters<typeof makeTestService>[0] = PASSKEY): Promise<TestService> {
  const t = await makeTestService(config);
  services.push(t);
  return t;
}

interface Start<T> {
  attempt_id: string;
  options: T;
}
type CreationOptions = {
  challenge: string;
  user: { id: string };
  rp: { id: string };
  excludeCredentials?: Array<{ id: string }>;
};

async function adminToken(t: TestService, username = 'admin', password = 'correct horse battery'): Promise<string> {
  const { access, res } = await t.login({ username, password });
  expect(res.status).toBe(200);
  return access;
}

async function registerOptions(t: TestService, token: string): Promise<Start<CreationOptions>> {
  return dataOf<Start<CreationOptions>>(await call(t, 'POST', '/admin/passkeys/options', { token }));
}

/** Registers a passkey on the authenticator for the token's account; returns its credential id. */
async function register(t: TestService, token: string, auth: SoftAuthenticator, name = 'laptop'): Promise<string> {
  const start = await registerOptions(t, token);
  const res = await call(t, 'POST', '/admin/passkeys', {
    token,
    body: { attempt_id: start.attempt_id, name, response: auth.register(start.options) },
  });
  return (await dataOf<{ credential_id: string }>(res)).credential_id;
}

async function loginOptions(t: TestService, body: unknown = {}): Promise<Start<{ challenge: string; rpId: string }>> {
  return dataOf<Start<{ challenge: string; rpId: string }>>(await call(t, 'POST', '/auth/passkey/options', { body }));
}

const passkeyLogin = (t: TestService, attemptId: string, response: unknown) =>
  t.post('/auth/token', {
    auth_method: 'passkey',
    public_key: 'passkey',
    client_name: 'mero-js-sdk',
    timestamp: 1_700_000_000,
    provider_data: { attempt_id: attemptId, response },
  });

describe('passkey registration and sign-in', () => {
  it('registers a passkey for the signed-in account, lists it, and signs in with it: the same token pair as a password login', async () => {
    const t = await service();
    const token = await adminToken(t);
    const auth = new SoftAuthenticator(RP_ID, ORIGIN);
    const start = await registerOptions(t, token);
    expect(start.options.rp.id).toBe(RP_ID);
    expect(start.options).toMatchObject({ authenticatorSelection: { residentKey: 'required', userVerification: 'required' } });
    const id = await register(t, token, auth);

    const listed = await dataOf<{ passkeys: Array<Record<string, unknown>> }>(await call(t, 'GET', '/admin/passkeys', { token }));
    expect(listed.passkeys).toEqual([
      {
        credential_id: id,
        name: 'laptop',
        created_at: 1_700_000_000,
        last_used_at: null,
        backed_up: false,
        device_type: 'singleDevice',
        transports: ['internal'],
      },
    ]);
    // Excluded from a second registration, so the same authenticator is not enrolled twice.
    expect((await registerOptions(t, token)).options.excludeCredentials?.map((c) => c.id)).toEqual([id]);

    const opts = await loginOptions(t);
    expect(opts.options.rpId).toBe(RP_ID);
    const res = await passkeyLogin(t, opts.attempt_id, auth.assert(opts.options));
    expect(res.status).toBe(200);
    const pair = (await res.json()) as { data: { access_token: string; refresh_token: string; error: null }; error: null };
    expect(Object.keys(pair.data)).toEqual(['access_token', 'refresh_token', 'error']);
    const claims = JSON.parse(Buffer.from(pair.data.access_token.split('.')[1] ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const passwordClaims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    expect(claims.sub).toBe(passwordClaims.sub);
    expect(claims.permissions).toEqual(passwordClaims.permissions);
    expect((await call(t, 'GET', '/admin/passkeys', { token: pair.data.access_token })).status).toBe(200);
    const stored = await t.svc.core.secondFactors.getPasskey(id);
    expect(stored).toMatchObject({ counter: 1, last_used_at: 1_700_000_000 });
  });

  it('a username in the options binds the challenge to that account', async () => {
    const t = await service();
    const auth = new SoftAuthenticator(RP_ID, ORIGIN);
    await register(t, await adminToken(t), auth);
    await addUser(t, 'bob', 'bob password 123');
    const bound = await loginOptions(t, { username: 'bob' });
    await expectErr(
      await passkeyLogin(t, bound.attempt_id, auth.assert(bound.options)),
      401,
      'Authentication failed: Unknown passkey',
    );
    const own = await loginOptions(t, { username: 'Admin' }); // the canonical spelling is admin
    expect((await passkeyLogin(t, own.attempt_id, auth.assert(own.options))).status).toBe(200);
  });

  it('deletes a passkey; it then signs in no more', async () => {
    const t = await service();
    const token = await adminToken(t);
    const auth = new SoftAuthenticator(RP_ID, ORIGIN);
    const id = await register(t, token, auth);
    expect(await dataOf(await call(t, 'DELETE', `/admin/passkeys/${id}`, { token }))).toEqual({ deleted: true });
    await expectErr(await call(t, 'DELETE', `/admin/passkeys/${id}`, { token }), 404, 'Passkey not found');
    const opts = await loginOptions(t);
    await expectErr(
      await passkeyLogin(t, opts.attempt_id, auth.assert(opts.options)),
      401,
      'Authentication failed: Unknown passkey',
    );
  });

  it('the routes answer 404 while the provider is off, and auth_method "passkey" is unsupported', async () => {
    const t = await service({});
    const token = await adminToken(t);
    await expectErr(await call(t, 'POST', '/auth/passkey/options', { body: {} }), 404, 'Passkeys are not enabled on this node');
    await expectErr(await call(t, 'POST', '/admin/passkeys/options', { token }), 404, 'Passkeys are not enabled on this node');
    await expectErr(
      await passkeyLogin(t, 'x', { id: 'x', response: {} }),
      401,
      'Authentication failed: Invalid request: Unsupported authentication method: passkey',
    );
  });

  it('wrong methods get 405 with Allow; the admin routes need a bearer', async () => {
    const t = await service();
    const get = await call(t, 'GET', '/auth/passkey/options');
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
    const token = await adminToken(t);
    const put = await call(t, 'PUT', '/admin/passkeys', { token });
    expect([put.status, put.headers.get('allow')]).toEqual([405, 'GET,HEAD,POST']);
    expect((await call(t, 'GET', '/admin/passkeys')).status).toBe(400);
  });
});

describe('/auth/providers and /admin/identity (issue 13)', () => {
  it('list passkey after user_password only when enabled; configured once a passkey exists', async () => {
    const off = await service({});
    const before = (await (await off.request('/auth/providers')).json()) as {
      data: { providers: Array<{ name: string }>; count: number };
    };
    expect(before.data.count).toBe(1);
    expect(before.data.providers.map((p) => p.name)).toEqual(['user_password']);

    const t = await service();
    const read = async () =>
      ((await (await t.request('/auth/providers')).json()) as { data: { providers: unknown[]; count: number } }).data;
    const first = await read();
    expect(first.count).toBe(2);
    expect(first.providers[1]).toEqual({
      name: 'passkey',
      type: 'webauthn',
      description: 'Authenticates users with a passkey (WebAuthn)',
      configured: false,
      config: { enabled: true, description: 'Passkey sign-in', rp_id: RP_ID, options_endpoint: '/auth/passkey/options' },
    });
    const token = await adminToken(t);
    await register(t, token, new SoftAuthenticator(RP_ID, ORIGIN));
    expect((await read()).providers[1]).toMatchObject({ name: 'passkey', configured: true });
    expect(await dataOf(await call(t, 'GET', '/admin/identity', { token }))).toMatchObject({
      providers: ['user_password', 'passkey'],
    });
  });
});

describe('Security: passkey sign-in refusals', () => {
  async function enrolled(): Promise<{ t: TestService; auth: SoftAuthenticator; id: string }> {
    const t = await service();
    const auth = new SoftAuthenticator(RP_ID, ORIGIN);
    const id = await register(t, await adminToken(t), auth);
    return { t, auth, id };
  }

  it('a response made for another origin (a phishing page) is refused', async () => {
    const { t, auth } = await enrolled();
    const opts = await loginOptions(t);
    const res = await passkeyLogin(
      t,
      opts.attempt_id,
      auth.assert(opts.options, { origin: 'https://node.example.com.evil.test' }),
    );
    await expectErr(
      res,
      401,
      'Authentication failed: Passkey not accepted: Unexpected authentication response origin "https://node.example.com.evil.test", expected one of: https://node.example.com',
    );
  });

  it('a response signed for another RP ID is refused', async () => {
    const { t, auth } = await enrolled();
    const opts = await loginOptions(t);
    const res = await passkeyLogin(t, opts.attempt_id, auth.assert(opts.options, { rpId: 'evil.test' }));
    await expectErr(res, 401, 'Authentication failed: Passkey not accepted: Unexpected RP ID hash');
  });

  it('a challenge is single use: the same attempt twice is refused, even with a fresh signature', async () => {
    const { t, auth } = await enrolled();
    const opts = await loginOptions(t);
    expect((await passkeyLogin(t, opts.attempt_id, auth.assert(opts.options))).status).toBe(200);
    await expectErr(
      await passkeyLogin(t, opts.attempt_id, auth.assert(opts.options)),
      401,
      'Authentication failed: The passkey challenge was already used: ask for new options',
    );
  });

  it('two concurrent sign-ins with one attempt: exactly one succeeds', async () => {
    const { t, auth } = await enrolled();
    const opts = await loginOptions(t);
    const a = auth.assert(opts.options);
    const b = auth.assert(opts.options);
    const statuses = (await Promise.all([passkeyLogin(t, opts.attempt_id, a), passkeyLogin(t, opts.attempt_id, b)])).map(
      (r) => r.status,
    );
    expect(statuses.sort()).toEqual([200, 401]);
  });

  it('an answer to one challenge is refused under another attempt', async () => {
    const { t, auth } = await enrolled();
    const first = await loginOptions(t);
    const second = await loginOptions(t);
    const res = await passkeyLogin(t, second.attempt_id, auth.assert(first.options));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /^Authentication failed: Passkey not accepted: Unexpected authentication response challenge/,
    );
  });

  it('an expired challenge is refused (the frozen clock moved past challenge_ttl_seconds)', async () => {
    const { t, auth } = await enrolled();
    const opts = await loginOptions(t);
    t.clock.advanceSeconds(60);
    await expectErr(
      await passkeyLogin(t, opts.attempt_id, auth.assert(opts.options)),
      401,
      'Authentication failed: The passkey challenge has expired: ask for new options',
    );
    await expectErr(
      await passkeyLogin(t, 'never-issued', auth.assert(opts.options)),
      401,
      'Authentication failed: Unknown passkey challenge: ask for new options',
    );
  });

  it('a counter that goes back (a cloned authenticator) is refused and logged; the stored counter stays', async () => {
    const { t, auth, id } = await enrolled();
    const lines: Array<Record<string, unknown>> = [];
    (t.svc.core as { log: Core['log'] }).log = createLogger('info', { write: (l: string) => lines.push(JSON.parse(l)) });
    const a = await loginOptions(t);
    expect((await passkeyLogin(t, a.attempt_id, auth.assert(a.options, { counter: 7 }))).status).toBe(200);
    const b = await loginOptions(t);
    await expectErr(
      await passkeyLogin(t, b.attempt_id, auth.assert(b.options, { counter: 5 })),
      401,
      'Authentication failed: Passkey refused: its signature counter went back (a cloned authenticator?)',
    );
    const c = await loginOptions(t);
    await expectErr(
      await passkeyLogin(t, c.attempt_id, auth.assert(c.options, { counter: 7 })),
      401,
      'Authentication failed: Passkey refused: its signature counter went back (a cloned authenticator?)',
    );
    expect(lines.filter((l) => l.level === 'warn' && String(l.msg).includes('possible cloned authenticator'))).toHaveLength(2);
    expect((await t.svc.core.secondFactors.getPasskey(id))?.counter).toBe(7);
  });

  it('an unknown credential (another authenticator) is refused', async () => {
    const { t } = await enrolled();
    const stranger = new SoftAuthenticator(RP_ID, ORIGIN);
    stranger.register({ challenge: 'x', user: { id: 'eA' } });
    const opts = await loginOptions(t);
    await expectErr(
      await passkeyLogin(t, opts.attempt_id, stranger.assert(opts.options)),
      401,
      'Authentication failed: Unknown passkey',
    );
  });

  it('a known credential id with a signature from another key is refused', async () => {
    const { t, auth } = await enrolled();
    const other = new SoftAuthenticator(RP_ID, ORIGIN);
    other.register({ challenge: 'x', user: { id: 'eA' } });
    const opts = await loginOptions(t);
    const res = await passkeyLogin(t, opts.attempt_id, auth.assert(opts.options, { signWith: other.credentials[0] }));
    await expectErr(res, 401, 'Authentication failed: Passkey not accepted: signature not verified');
  });

  it('an assertion without user verification is refused', async () => {
    const { t, auth } = await enrolled();
    const opts = await loginOptions(t);
    const res = await passkeyLogin(t, opts.attempt_id, auth.assert(opts.options, { flags: FLAG.UP }));
    expect(((await res.json()) as { error: string }).error).toMatch(
      /^Authentication failed: Passkey not accepted: User verification/,
    );
    expect(res.status).toBe(401);
  });

  it('a passkey of a revoked account signs in no more', async () => {
    const { t, auth } = await enrolled();
    const user = await t.svc.core.users.get('admin');
    const key = await t.svc.core.keys.getRoot(user?.key_id ?? '');
    if (key === undefined) throw new Error('no root key');
    await t.svc.core.store.batch([t.svc.core.keys.putOp(user?.key_id ?? '', { ...key, revoked_at: 1 })]);
    const opts = await loginOptions(t);
    await expectErr(
      await passkeyLogin(t, opts.attempt_id, auth.assert(opts.options)),
      401,
      'Authentication failed: Unknown passkey',
    );
  });

  it('revoking a root key deletes its passkeys and second-factor record, so the authenticator can register again', async () => {
    const t = await service();
    const admin = await adminToken(t);
    const bobKey = await addUser(t, 'bob', 'bob password 123');
    const auth = new SoftAuthenticator(RP_ID, ORIGIN);
    let bob = await adminToken(t, 'bob', 'bob password 123');
    const id = await register(t, bob, auth);
    expect((await call(t, 'POST', '/admin/totp', { token: bob })).status).toBe(200);
    expect((await t.svc.core.store.scan('mfa:bob')).length).toBe(1);

    expect((await call(t, 'DELETE', `/admin/keys/${bobKey}`, { token: admin })).status).toBe(200);
    expect(await t.svc.core.store.scan(`passkey:${id}`)).toEqual([]);
    expect(await t.svc.core.store.scan('idx:user_passkeys:bob:')).toEqual([]);
    expect(await t.svc.core.store.scan('mfa:bob')).toEqual([]);
    // The admin's own records are untouched.
    const adminId = await register(t, admin, new SoftAuthenticator(RP_ID, ORIGIN));
    expect(await t.svc.core.secondFactors.getPasskey(adminId)).toBeDefined();

    // Bob again, on a new key: the same authenticator (same credential id) registers again.
    await addUser(t, 'bob', 'bob password 123');
    bob = await adminToken(t, 'bob', 'bob password 123');
    const start = await registerOptions(t, bob);
    const res = await call(t, 'POST', '/admin/passkeys', {
      token: bob,
      body: {
        attempt_id: start.attempt_id,
        response: auth.register(start.options, { credentialId: Buffer.from(id, 'base64url') }),
      },
    });
    expect((await dataOf<{ credential_id: string }>(res)).credential_id).toBe(id);
  });

  it('failed passkey sign-ins count against the rate limit like passwords (429 after five)', async () => {
    const { t } = await enrolled();
    const stranger = new SoftAuthenticator(RP_ID, ORIGIN);
    stranger.register({ challenge: 'x', user: { id: 'eA' } });
    for (let i = 0; i < 5; i++) {
      const opts = await loginOptions(t);
      expect((await passkeyLogin(t, opts.attempt_id, stranger.assert(opts.options))).status).toBe(401);
    }
    const opts = await loginOptions(t);
    const res = await passkeyLogin(t, opts.attempt_id, stranger.assert(opts.options));
    expect(res.status).toBe(429);
  });
});

describe('Security: anonymous challenge writes are bounded', () => {
  it('POST /auth/passkey/options: 60 per address per window, then 429 with Retry-After; another address is unaffected', async () => {
    const t = await service();
    const ask = (peer: string) => t.request('/auth/passkey/options', { method: 'POST', peer });
    for (let i = 0; i < 60; i++) expect((await ask('198.51.100.1')).status).toBe(200);
    const refused = await ask('198.51.100.1');
    await expectErr(refused.clone(), 429, 'Too many passkey sign-in attempts; please try again later');
    expect(Number(refused.headers.get('retry-after'))).toBe(60);
    expect((await ask('198.51.100.2')).status).toBe(200);
    expect((await t.svc.core.store.scan('system:webauthn:challenge:')).length).toBe(61);
    t.clock.advanceSeconds(61);
    expect((await ask('198.51.100.1')).status).toBe(200);
  });
});

describe('Security: passkey registration refusals', () => {
  it('wrong origin, wrong RP ID, a reused or expired attempt, and an attempt issued to another account', async () => {
    const t = await service();
    const token = await adminToken(t);
    const auth = new SoftAuthenticator(RP_ID, ORIGIN);
    const post = (attempt: string, response: unknown, tok = token) =>
      call(t, 'POST', '/admin/passkeys', { token: tok, body: { attempt_id: attempt, response } });

    let s = await registerOptions(t, token);
    await expectErr(
      await post(s.attempt_id, auth.register(s.options, { origin: 'https://evil.test' })),
      400,
      'Passkey registration refused: Unexpected registration response origin "https://evil.test", expected one of: https://node.example.com',
    );
    s = await registerOptions(t, token);
    await expectErr(
      await post(s.attempt_id, auth.register(s.options, { rpId: 'evil.test' })),
      400,
      'Passkey registration refused: Unexpected RP ID hash',
    );
    s = await registerOptions(t, token);
    expect((await post(s.attempt_id, auth.register(s.options))).status).toBe(200);
    await expectErr(
      await post(s.attempt_id, auth.register(s.options)),
      400,
      'The passkey challenge was already used: ask for new options',
    );
    s = await registerOptions(t, token);
    t.clock.advanceSeconds(61);
    await expectErr(
      await post(s.attempt_id, auth.register(s.options)),
      400,
      'The passkey challenge has expired: ask for new options',
    );

    await addUser(t, 'bob', 'bob password 123');
    const bob = await adminToken(t, 'bob', 'bob password 123');
    s = await registerOptions(t, token);
    await expectErr(
      await post(s.attempt_id, auth.register(s.options), bob),
      400,
      'The passkey challenge was issued to another account',
    );
    // A login challenge cannot register a passkey.
    const login = await loginOptions(t);
    await expectErr(
      await post(login.attempt_id, auth.register({ challenge: login.options.challenge, user: { id: 'eA' } })),
      400,
      'The passkey challenge was issued for another ceremony',
    );
    expect(await t.svc.core.secondFactors.passkeys('admin', (await t.svc.core.users.get('admin'))?.key_id ?? '')).toHaveLength(1);
  });

  it('a malformed body is a 400 extraction error and stores nothing', async () => {
    const t = await service();
    const token = await adminToken(t);
    const res = await call(t, 'POST', '/admin/passkeys', { token, body: { attempt_id: 'x', response: { id: 1 } } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /^Invalid JSON: Failed to deserialize the JSON body into the target type: response/,
    );
    expect(await t.svc.core.store.scan('passkey:')).toEqual([]);
  });

  it('malformed transports are a 400 and store nothing; unknown transport names are dropped', async () => {
    const t = await service();
    const token = await adminToken(t);
    const auth = new SoftAuthenticator(RP_ID, ORIGIN);
    const withTransports = async (transports: unknown) => {
      const s = await registerOptions(t, token);
      const response = auth.register(s.options) as { response: Record<string, unknown> };
      response.response.transports = transports;
      return call(t, 'POST', '/admin/passkeys', { token, body: { attempt_id: s.attempt_id, response } });
    };
    for (const bad of ['usb', { usb: true }, [{}], Array.from({ length: 100 }, () => 'usb')]) {
      const res = await withTransports(bad);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(
        /^Invalid JSON: Failed to deserialize the JSON body into the target type: response\.response\.transports/,
      );
    }
    expect(await t.svc.core.store.scan('passkey:')).toEqual([]);
    const ok = await dataOf<{ transports: string[] }>(await withTransports(['usb', 'warp-drive', 'hybrid', 'usb']));
    expect(ok.transports).toEqual(['usb', 'hybrid']);
  });

  it('a client-key token is not an account: 403', async () => {
    const t = await service();
    const token = await adminToken(t);
    const minted = await dataOf<{ access_token: string }>(
      await call(t, 'POST', '/admin/client-key', {
        token,
        body: { context_id: 'c', context_identity: 'i', permissions: ['context:execute'] },
      }),
    );
    await expectErr(
      await call(t, 'POST', '/admin/passkeys/options', { token: minted.access_token }),
      403,
      'Second factors belong to an account: sign in with its username and password first',
    );
  });
});
