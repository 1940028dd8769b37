/**
 * POST /auth/token (wire §3.2), its rate limits (§8.1) and hashing limit (§8.2).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nowSeconds } from '../../src/util/clock.js';
import {
  addUser,
  adminKeyId,
  bearer,
  decodeJwt,
  expectErr,
  expectErrPrefix,
  expectExtraction,
  expectPair,
  freshPeer,
  JWT_HEADER,
  loginBody,
  ROOT_KEY_ID,
  T0,
  updateKey,
  UUID_V4,
} from '../helpers/http.js';
import { ADMIN, makeTestService, type TestService } from '../helpers/service.js';

const INVALID_CREDENTIALS = 'Authentication failed: Authentication failed: Invalid username or password';
const RATE_LIMITED = 'Too many failed login attempts; please try again later';
const BUSY = 'Too many concurrent login attempts; please try again later';
const DESER = 'Invalid JSON: Failed to deserialize the JSON body into the target type: ';

let t: TestService;
beforeAll(async () => {
  t = await makeTestService();
});
afterAll(async () => {
  await t.close();
});

/** Every /auth/token answer in this file passes through here: never an X-Auth-Error (§2.2). */
async function token(body: unknown, headers: Record<string, string> = {}, peer = freshPeer(), svc = t): Promise<Response> {
  const res = await svc.post('/auth/token', body, headers, peer);
  expect(res.headers.get('x-auth-error')).toBeNull();
  expect(res.headers.get('x-auth-user')).toBeNull();
  expect(res.headers.get('set-cookie')).toBeNull();
  return res;
}

/** A unique identity, so identity buckets never collide across rows. */
let seq = 0;
const who = () => `user-${++seq}`;

describe('POST /auth/token: success', () => {
  it('answers the token-pair envelope byte for byte', async () => {
    const res = await token(loginBody());
    const { text } = await expectPair(res);
    const json = JSON.parse(text) as { data: Record<string, unknown> };
    expect(Object.keys(json)).toEqual(['data', 'error']);
    expect(Object.keys(json.data)).toEqual(['access_token', 'refresh_token', 'error']);
  });

  it('mints the claims of §4.2 in order, header exactly {"typ":"JWT","alg":"HS256"}', async () => {
    const clientName = 'http://localhost:2428/auth/login?callback-url=x&\tq=1';
    const { access, refresh } = await expectPair(
      await token(loginBody({ client_name: clientName, permissions: ['read', 'nonsense'] })),
    );
    const keyId = await adminKeyId(t);
    const a = decodeJwt(access);
    const r = decodeJwt(refresh);
    expect(a.headerPart).toBe(JWT_HEADER);
    expect(r.headerPart).toBe(JWT_HEADER);
    expect(access.split('.')).toHaveLength(3);
    expect(Object.keys(a.payload)).toEqual([
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'jti',
      'token_type',
      'permissions',
      'node_url',
      'sid',
    ]);
    expect(a.payload).toEqual({
      sub: keyId,
      iss: 'calimero-auth',
      aud: 'calimero-auth',
      exp: T0 + 1800,
      iat: T0,
      jti: expect.stringMatching(UUID_V4),
      token_type: 'access',
      // The request's permissions are ignored: the account key's stored ones are used.
      permissions: ['admin'],
      // node_url is the raw client_name, control character included (never sanitised).
      node_url: clientName,
      sid: expect.stringMatching(UUID_V4),
    });
    expect(keyId).toMatch(ROOT_KEY_ID);
    expect(r.payload).toEqual({ ...a.payload, exp: T0 + 2_592_000, jti: expect.stringMatching(UUID_V4), token_type: 'refresh' });
    expect(r.payload.jti).not.toBe(a.payload.jti);
    expect(r.payload.sid).toBe(a.payload.sid);
    // No claims beyond §4.2.
    for (const absent of ['nbf', 'key_id', 'scope', 'client_id']) expect(a.payload).not.toHaveProperty(absent);
  });

  it('uses jwt.issuer for iss and aud and the configured expiries', async () => {
    const s = await makeTestService({ jwt: { issuer: 'my-node', access_token_expiry: 60, refresh_token_expiry: 600 } });
    try {
      const { access, refresh } = await expectPair(await token(loginBody(), {}, freshPeer(), s));
      expect(decodeJwt(access).payload).toMatchObject({ iss: 'my-node', aud: 'my-node', exp: T0 + 60, iat: T0 });
      expect(decodeJwt(refresh).payload).toMatchObject({ iss: 'my-node', aud: 'my-node', exp: T0 + 600, iat: T0 });
    } finally {
      await s.close();
    }
  });

  it('opens a new session per login (distinct sid), each valid on /auth/validate', async () => {
    const one = await expectPair(await token(loginBody()));
    const two = await expectPair(await token(loginBody()));
    expect(decodeJwt(one.access).payload.sid).not.toBe(decodeJwt(two.access).payload.sid);
    for (const p of [one, two]) {
      const res = await t.request('/auth/validate', { headers: bearer(p.access) });
      expect(res.status).toBe(200);
    }
  });

  it.each([
    ['application/json', 'application/json'],
    ['a charset parameter', 'application/json; charset=utf-8'],
    ['application/vnd.api+json', 'application/vnd.api+json'],
    ['an upper-case type', 'Application/JSON'],
  ])('accepts %s as the content type', async (_name, contentType) => {
    await expectPair(await token(JSON.stringify(loginBody()), { 'content-type': contentType }));
  });

  it.each([
    ['timestamp 1.0 (JSON cannot tell it from 1)', '1.0'],
    ['timestamp 0', '0'],
    ['a millisecond timestamp', String(T0 * 1000)],
  ])('accepts %s', async (_name, ts) => {
    const raw = JSON.stringify(loginBody({ timestamp: 0 })).replace('"timestamp":0', `"timestamp":${ts}`);
    await expectPair(await token(raw));
  });

  it('ignores unknown fields, permissions:null and a missing permissions field; the last duplicate key wins', async () => {
    await expectPair(await token(loginBody({ extra: { deep: [1, 2] }, bootstrap_secret: 'x', permissions: null })));
    const { permissions: _p, ...noPerms } = loginBody();
    await expectPair(await token(noPerms));
    const dup = JSON.stringify(loginBody()).replace('{', '{"auth_method":"nope",');
    await expectPair(await token(dup));
    await expectPair(
      await token(loginBody({ provider_data: { username: ADMIN.username, password: ADMIN.password, bootstrap_secret: 's' } })),
    );
  });

  it('ignores an Authorization header (mero-js sends its bearer everywhere)', async () => {
    await expectPair(await token(loginBody(), { authorization: 'Bearer not-a-token' }));
    await expectPair(await token(loginBody(), { authorization: 'Basic Zm9vOmJhcg==' }));
  });

  it('does not enforce the minimum password length at login (old short passwords keep working)', async () => {
    await addUser(t, 'shorty', 'abc');
    await expectPair(await token(loginBody({ public_key: 'shorty', provider_data: { username: 'shorty', password: 'abc' } })));
  });

  it('accepts a password of exactly max_password_length code points', async () => {
    const pw = '😀'.repeat(128); // 128 code points, 256 UTF-16 units
    await addUser(t, 'emoji', pw);
    await expectPair(await token(loginBody({ public_key: 'emoji', provider_data: { username: 'emoji', password: pw } })));
  });

  it('normalises the username ("Admin" is "admin", src/auth/username.ts) and never trims it', async () => {
    await expectPair(
      await token(loginBody({ public_key: who(), provider_data: { username: 'Admin', password: ADMIN.password } })),
    );
    for (const username of [' admin', 'admin ']) {
      await expectErr(
        await token(loginBody({ public_key: who(), provider_data: { username, password: ADMIN.password } })),
        401,
        INVALID_CREDENTIALS,
      );
    }
  });
});

describe('POST /auth/token: body extraction (§2.1 shape 2)', () => {
  const CT = 'Invalid JSON: Expected request with `Content-Type: application/json`';
  const PARSE = 'Invalid JSON: Failed to parse the request body as JSON: ';
  const good = JSON.stringify(loginBody());

  it.each([
    ['no content type', undefined],
    ['text/plain', 'text/plain'],
    ['text/json', 'text/json'],
    ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
    ['multipart/form-data', 'multipart/form-data; boundary=x'],
    ['application/jsonp', 'application/jsonp'],
    ['application/json-patch', 'application/json-patch'],
  ])('400 for %s', async (_name, contentType) => {
    const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType };
    const res = await t.request('/auth/token', { method: 'POST', headers, body: good, peer: freshPeer() });
    await expectExtraction(res, 400, CT, true);
  });

  it.each([
    ['malformed JSON', '{"auth_method":'],
    ['an empty body', ''],
    ['trailing garbage', `${good}x`],
    ['single quotes', "{'a':1}"],
  ])('400 parse error for %s', async (_name, raw) => {
    await expectExtraction(await token(raw), 400, PARSE);
  });

  it.each([
    ['a top-level array', '[]'],
    ['a top-level string', '"x"'],
    ['a top-level number', '1'],
    ['top-level null', 'null'],
  ])('400 deserialize error for %s', async (_name, raw) => {
    await expectExtraction(await token(raw), 400, DESER);
  });

  const { timestamp: _ts, ...noTimestamp } = loginBody();
  const { provider_data: _pd, ...noProviderData } = loginBody();
  const { auth_method: _am, ...noAuthMethod } = loginBody();
  const { public_key: _pk, ...noPublicKey } = loginBody();
  const { client_name: _cn, ...noClientName } = loginBody();
  it.each([
    ['timestamp', noTimestamp],
    ['provider_data', noProviderData],
    ['auth_method', noAuthMethod],
    ['public_key', noPublicKey],
    ['client_name', noClientName],
  ])('400 missing field `%s`', async (field, body) => {
    await expectExtraction(await token(body), 400, `${DESER}missing field \`${field}\``, true);
  });

  it.each([
    ['a negative timestamp', { timestamp: -1 }],
    ['a fractional timestamp', { timestamp: 1.5 }],
    ['a string timestamp', { timestamp: '1700000000' }],
    ['a null timestamp', { timestamp: null }],
    ['a boolean timestamp', { timestamp: true }],
    ['a numeric auth_method', { auth_method: 5 }],
    ['a null auth_method', { auth_method: null }],
    ['an array public_key', { public_key: ['admin'] }],
    ['an object client_name', { client_name: {} }],
    ['a null client_name', { client_name: null }],
    ['a string permissions', { permissions: 'admin' }],
    ['a non-string inside permissions', { permissions: ['admin', 1] }],
  ])('400 deserialize error for %s', async (_name, change) => {
    await expectExtraction(await token(loginBody(change)), 400, DESER);
  });

  it('lets provider_data: null through extraction (it fails at step 6 as a 401)', async () => {
    await expectErrPrefix(
      await token(loginBody({ public_key: who(), provider_data: null })),
      401,
      'Authentication failed: Invalid request: Invalid username/password data: ',
    );
  });

  it.each([
    ['auth_method', { auth_method: '' }, 'auth_method: Authentication method is required'],
    ['public_key', { public_key: '' }, 'public_key: Public key is required'],
    ['client_name', { client_name: '' }, 'client_name: Client name is required'],
    [
      'all three: the first in table order',
      { auth_method: '', public_key: '', client_name: '' },
      'auth_method: Authentication method is required',
    ],
    ['public_key and client_name', { public_key: '', client_name: '' }, 'public_key: Public key is required'],
    ['auth_method and client_name', { client_name: '', auth_method: '' }, 'auth_method: Authentication method is required'],
  ])('422 for an empty %s', async (_name, change, message) => {
    await expectExtraction(await token(loginBody(change)), 422, `Validation error: ${message}`, true);
  });

  it('reports a type error (400) before an empty-field rule (422)', async () => {
    await expectExtraction(await token(loginBody({ auth_method: '', timestamp: -1 })), 400, DESER);
  });
});

describe('POST /auth/token: sanitisation (§3.2 step 3)', () => {
  it.each([
    [
      'auth_method with no identifier characters',
      { auth_method: '!@# $%' },
      'Authentication method must contain valid characters',
    ],
    ['a non-ASCII-only public_key', { public_key: 'éü日本' }, 'Public key cannot be empty after sanitization'],
    ['a control-only public_key', { public_key: '\u0000\t\n\r\u007f' }, 'Public key cannot be empty after sanitization'],
    ['a control-only client_name', { client_name: '\n\t' }, 'Client name cannot be empty after sanitization'],
    ['a non-ASCII client_name', { client_name: 'Ω日' }, 'Client name cannot be empty after sanitization'],
    [
      'all three bad: auth_method first',
      { auth_method: '...', public_key: 'é', client_name: 'é' },
      'Authentication method must contain valid characters',
    ],
    ['public_key and client_name bad', { public_key: 'é', client_name: 'é' }, 'Public key cannot be empty after sanitization'],
  ])('400 for %s', async (_name, change, message) => {
    await expectErr(await token(loginBody(change)), 400, message);
  });

  it('keeps Unicode letters in auth_method: "user_pässword" is an unsupported method, not a 400', async () => {
    await expectErr(
      await token(loginBody({ auth_method: 'user_pässword', public_key: who() })),
      401,
      'Authentication failed: Invalid request: Unsupported authentication method: user_pässword',
    );
  });

  it('reports the sanitised auth_method in the unsupported-method error', async () => {
    await expectErr(
      await token(loginBody({ auth_method: 'f o!o', public_key: who() })),
      401,
      'Authentication failed: Invalid request: Unsupported authentication method: foo',
    );
  });

  it('sanitises auth_method before matching: "user_password\\u0000" logs in', async () => {
    await expectPair(await token(loginBody({ auth_method: 'user_password\u0000' })));
  });

  it('400s are not login failures: six of them leave the identity unlocked', async () => {
    const peer = freshPeer();
    for (let i = 0; i < 6; i++)
      await expectErr(
        await token(loginBody({ client_name: '\n' }), {}, peer),
        400,
        'Client name cannot be empty after sanitization',
      );
    for (let i = 0; i < 6; i++)
      await expectExtraction(await token(loginBody({ client_name: '' }), {}, peer), 422, 'Validation error: ');
    await expectPair(await token(loginBody(), {}, peer));
  });
});

describe('POST /auth/token: authentication failures (§3.2 steps 5–12)', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['a wrong password', { provider_data: { username: ADMIN.username, password: 'wrong horse' } }, INVALID_CREDENTIALS],
    ['an unknown user', { provider_data: { username: 'nobody', password: ADMIN.password } }, INVALID_CREDENTIALS],
    ['empty username and password strings', { provider_data: { username: '', password: '' } }, INVALID_CREDENTIALS],
    [
      'a password that is the right one plus a newline',
      { provider_data: { username: ADMIN.username, password: `${ADMIN.password}\n` } },
      INVALID_CREDENTIALS,
    ],
    [
      'an unsupported method',
      { auth_method: 'foo' },
      'Authentication failed: Invalid request: Unsupported authentication method: foo',
    ],
    [
      'a missing password',
      { provider_data: { username: ADMIN.username } },
      'Authentication failed: Invalid request: Invalid username/password data: missing field `password`',
    ],
    [
      'a missing username',
      { provider_data: { password: 'x' } },
      'Authentication failed: Invalid request: Invalid username/password data: missing field `username`',
    ],
    [
      'a numeric username',
      { provider_data: { username: 5, password: 'x' } },
      'Authentication failed: Invalid request: Invalid username/password data: invalid type: integer `5`, expected a string',
    ],
    [
      'username_password (a kept Rust quirk)',
      { auth_method: 'username_password' },
      'Authentication failed: Invalid request: Unsupported authentication method: username_password. Supported methods: user_password',
    ],
    [
      'username_password with bad data: the data error comes first (step 6 before 7)',
      { auth_method: 'username_password', provider_data: { username: 'admin' } },
      'Authentication failed: Invalid request: Invalid username/password data: missing field `password`',
    ],
    [
      'a password longer than max_password_length',
      { provider_data: { username: ADMIN.username, password: 'x'.repeat(129) } },
      'Authentication failed: Authentication failed: Password must be at most 128 characters long',
    ],
    [
      'a too-long password for an unknown user (checked before the lookup)',
      { provider_data: { username: 'ghost', password: '😀'.repeat(129) } },
      'Authentication failed: Authentication failed: Password must be at most 128 characters long',
    ],
  ])('401 for %s', async (_name, change, message) => {
    await expectErr(await token(loginBody({ public_key: who(), ...change })), 401, message);
  });

  it.each([
    ['a string', 'admin:pw'],
    ['an array', ['admin', 'pw']],
    ['null', null],
    ['a number', 42],
  ])('401 when provider_data is %s', async (_name, providerData) => {
    await expectErrPrefix(
      await token(loginBody({ public_key: who(), provider_data: providerData })),
      401,
      'Authentication failed: Invalid request: Invalid username/password data: ',
    );
  });

  it('401 "Key is not valid for this node" when the account key is bound to another node', async () => {
    await addUser(t, 'bound', 'bound-password', { nodeUrl: 'https://node-a.example' });
    const pd = { username: 'bound', password: 'bound-password' };
    await expectErr(
      await token(loginBody({ public_key: who(), client_name: 'https://node-b.example/app', provider_data: pd })),
      401,
      'Authentication failed: Authentication failed: Key is not valid for this node',
    );
    // The same host passes (ports and paths do not matter).
    await expectPair(
      await token(loginBody({ public_key: who(), client_name: 'https://node-a.example:8443/x', provider_data: pd })),
    );
  });

  it('401 when the account root key is revoked or expired, with the same message', async () => {
    const id = await addUser(t, 'revoked', 'revoked-password');
    await updateKey(t, id, { revoked_at: nowSeconds(t.clock) });
    await expectErr(
      await token(loginBody({ public_key: who(), provider_data: { username: 'revoked', password: 'revoked-password' } })),
      401,
      INVALID_CREDENTIALS,
    );
    const id2 = await addUser(t, 'expired', 'expired-password');
    await updateKey(t, id2, { expires_at: nowSeconds(t.clock) });
    await expectErr(
      await token(loginBody({ public_key: who(), provider_data: { username: 'expired', password: 'expired-password' } })),
      401,
      INVALID_CREDENTIALS,
    );
  });

  it('401 when the user record points at a missing root key, with the same message', async () => {
    const id = await addUser(t, 'orphan', 'orphan-password');
    await t.svc.core.store.batch([{ type: 'del', key: `root_key:${id}` }]);
    await expectErr(
      await token(loginBody({ public_key: who(), provider_data: { username: 'orphan', password: 'orphan-password' } })),
      401,
      INVALID_CREDENTIALS,
    );
  });

  it('a hash with other argon2 parameters still verifies and is upgraded at login', async () => {
    const { PasswordHasher } = await import('../../src/providers/password-hasher.js');
    const old = new PasswordHasher({ memoryKib: 9216, iterations: 4, parallelism: 1 });
    await addUser(t, 'legacy', 'legacy-password');
    const user = await t.svc.core.users.get('legacy');
    const oldHash = await old.hash('legacy-password');
    expect(oldHash).toContain('$m=9216,t=4,p=1$');
    await t.svc.core.store.batch([t.svc.core.users.putOp('legacy', { ...user!, password_hash: oldHash })]);
    await expectPair(
      await token(loginBody({ public_key: who(), provider_data: { username: 'legacy', password: 'legacy-password' } })),
    );
    const upgraded = await t.svc.core.users.get('legacy');
    expect(upgraded?.password_hash).toContain('$m=7168,t=5,p=1$');
    expect(upgraded?.key_id).toBe(user?.key_id);
    await expectPair(
      await token(loginBody({ public_key: who(), provider_data: { username: 'legacy', password: 'legacy-password' } })),
    );
  });

  it('401 on a node with no account at all (login never creates accounts)', async () => {
    const s = await makeTestService({}, { admin: false });
    try {
      await expectErr(await token(loginBody(), {}, freshPeer(), s), 401, INVALID_CREDENTIALS);
      await expectErr(await token(loginBody(), {}, freshPeer(), s), 401, INVALID_CREDENTIALS);
      expect(await s.svc.core.users.list()).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('401 unsupported method when the user_password provider is disabled', async () => {
    const s = await makeTestService({ providers: { user_password: false } });
    try {
      await expectErr(
        await token(loginBody(), {}, freshPeer(), s),
        401,
        'Authentication failed: Invalid request: Unsupported authentication method: user_password',
      );
    } finally {
      await s.close();
    }
  });
});

describe('Security: account enumeration (§3.2 step 10)', () => {
  it('unknown user and wrong password give the identical 401', async () => {
    const wrong = await token(loginBody({ public_key: who(), provider_data: { username: ADMIN.username, password: 'nope' } }));
    const unknown = await token(loginBody({ public_key: who(), provider_data: { username: 'ghost', password: 'nope' } }));
    const wrongText = await wrong.text();
    const unknownText = await unknown.text();
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrongText).toBe(JSON.stringify({ data: null, error: INVALID_CREDENTIALS }));
    expect(unknownText).toBe(wrongText);
    expect([...wrong.headers].sort()).toEqual([...unknown.headers].sort());
  });
});

describe('Security: brute force (rate limiting, §8.1)', () => {
  let s: TestService;
  beforeAll(async () => {
    s = await makeTestService();
  });
  afterAll(async () => {
    await s.close();
  });

  const wrong = (publicKey = ADMIN.username) =>
    loginBody({ public_key: publicKey, provider_data: { username: ADMIN.username, password: 'wrong' } });

  it('five failures → five 401s; the sixth → 429 with Retry-After, even with the right password', async () => {
    const peer = freshPeer();
    const pk = 'brute-1';
    for (let i = 0; i < 5; i++) await expectErr(await token(wrong(pk), {}, peer, s), 401, INVALID_CREDENTIALS);
    const locked = await token(loginBody({ public_key: pk }), {}, peer, s);
    expect(locked.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
    expect(Number(locked.headers.get('retry-after'))).toBe(60); // frozen clock: the whole window
    await expectErr(locked, 429, RATE_LIMITED);
    // From another address too: the identity bucket is locked.
    await expectErr(await token(loginBody({ public_key: pk }), {}, freshPeer(), s), 429, RATE_LIMITED);
    // A different public_key is a different identity.
    await expectPair(await token(loginBody({ public_key: 'brute-1b' }), {}, freshPeer(), s));
  });

  it('the lockout ends when the window has passed; Retry-After counts down', async () => {
    const pk = 'brute-2';
    for (let i = 0; i < 5; i++) await expectErr(await token(wrong(pk), {}, freshPeer(), s), 401, INVALID_CREDENTIALS);
    s.clock.advanceSeconds(45);
    const res = await token(loginBody({ public_key: pk }), {}, freshPeer(), s);
    expect(res.headers.get('retry-after')).toBe('15');
    await expectErr(res, 429, RATE_LIMITED);
    s.clock.advanceSeconds(16);
    // The five failures at +0 s aged out; only the 429 at +45 s (itself a failure) remains.
    await expectPair(await token(loginBody({ public_key: pk }), {}, freshPeer(), s));
  });

  it('hammering during a lockout keeps extending it: every 429 is a failure in both buckets', async () => {
    const pk = 'brute-hammer';
    const peer = freshPeer();
    for (let i = 0; i < 5; i++) await expectErr(await token(wrong(pk), {}, peer, s), 401, INVALID_CREDENTIALS);
    // Fifteen 429s, at +10 s, from the same address: the address bucket (20) fills up too.
    s.clock.advanceSeconds(10);
    for (let i = 0; i < 15; i++) await expectErr(await token(loginBody({ public_key: pk }), {}, peer, s), 429, RATE_LIMITED);
    await expectErr(await token(loginBody({ public_key: 'brute-hammer-other' }), {}, peer, s), 429, RATE_LIMITED);
    // +61 s: the five 401s aged out, the 429s at +10 s still lock the identity.
    s.clock.advanceSeconds(51);
    const res = await token(loginBody({ public_key: pk }), {}, freshPeer(), s);
    expect(res.headers.get('retry-after')).toBe('9');
    await expectErr(res, 429, RATE_LIMITED);
  });

  it('a success resets the identity bucket', async () => {
    const pk = 'brute-3';
    const peer = freshPeer();
    for (let i = 0; i < 4; i++) await expectErr(await token(wrong(pk), {}, peer, s), 401, INVALID_CREDENTIALS);
    await expectPair(await token(loginBody({ public_key: pk }), {}, peer, s));
    for (let i = 0; i < 5; i++) await expectErr(await token(wrong(pk), {}, peer, s), 401, INVALID_CREDENTIALS);
    await expectErr(await token(wrong(pk), {}, peer, s), 429, RATE_LIMITED);
  });

  it('21 failures from one address with different public_keys → the 21st is 429; another address is unaffected', async () => {
    const peer = freshPeer();
    for (let i = 0; i < 20; i++) {
      await expectErr(await token(wrong(`rotating-${i}`), {}, peer, s), 401, INVALID_CREDENTIALS);
    }
    const res = await token(wrong('rotating-20'), {}, peer, s);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await expectErr(res, 429, RATE_LIMITED);
    // The right password from the locked address is refused too …
    await expectErr(await token(loginBody({ public_key: 'rotating-ok' }), {}, peer, s), 429, RATE_LIMITED);
    // … while another address logs in and fails normally.
    const other = freshPeer();
    await expectErr(await token(wrong('rotating-x'), {}, other, s), 401, INVALID_CREDENTIALS);
    await expectPair(await token(loginBody({ public_key: 'rotating-ok2' }), {}, other, s));
  });

  it('X-Forwarded-For from an untrusted peer is ignored', async () => {
    const peer = freshPeer();
    for (let i = 0; i < 20; i++) {
      await expectErr(
        await token(wrong(`xff-${i}`), { 'x-forwarded-for': `192.0.2.${i + 1}` }, peer, s),
        401,
        INVALID_CREDENTIALS,
      );
    }
    await expectErr(await token(wrong('xff-20'), { 'x-forwarded-for': '192.0.2.200' }, peer, s), 429, RATE_LIMITED);
  });

  it('X-Forwarded-For is honoured from a server.trusted_proxies peer', async () => {
    const p = await makeTestService({ server: { trusted_proxies: ['10.0.0.0/8'] } });
    try {
      const proxy = '10.1.2.3';
      for (let i = 0; i < 20; i++) {
        await expectErr(
          await token(wrong(`tp-${i}`), { 'x-forwarded-for': '198.51.100.1, 10.9.9.9' }, proxy, p),
          401,
          INVALID_CREDENTIALS,
        );
      }
      // The same client behind the proxy is locked …
      await expectErr(await token(wrong('tp-20'), { 'x-forwarded-for': '198.51.100.1' }, proxy, p), 429, RATE_LIMITED);
      // … a different client behind the same proxy is not, nor is the proxy's own address.
      await expectErr(await token(wrong('tp-21'), { 'x-forwarded-for': '198.51.100.2' }, proxy, p), 401, INVALID_CREDENTIALS);
      await expectErr(await token(wrong('tp-22'), {}, proxy, p), 401, INVALID_CREDENTIALS);
    } finally {
      await p.close();
    }
  });

  it('rate_limit.max_failures = 0 disables the identity limiter', async () => {
    const p = await makeTestService({ rate_limit: { max_failures: 0 } });
    try {
      for (let i = 0; i < 7; i++) {
        await expectErr(await token(wrong('nolimit'), {}, freshPeer(), p), 401, INVALID_CREDENTIALS);
      }
      await expectPair(await token(loginBody({ public_key: 'nolimit' }), {}, freshPeer(), p));
    } finally {
      await p.close();
    }
  });
});

describe('Security: login floods (hashing slots, §8.2)', () => {
  let s: TestService;
  let release: (() => void) | undefined;
  beforeAll(async () => {
    s = await makeTestService({}, { hashPool: { slots: 1, queue: 0 } });
  });
  afterEach(() => {
    release?.();
    release = undefined;
  });
  afterAll(async () => {
    await s.close();
  });

  /** Occupies the only slot, as an in-flight argon2 verification would. */
  function holdSlot(): Promise<void> {
    return s.svc.core.hashPool.run(() => new Promise<void>((r) => (release = r)));
  }

  it('503 + Retry-After: 1 while a hash is in flight; not a failure; /auth/validate unaffected', async () => {
    const { access } = await expectPair(await token(loginBody(), {}, freshPeer(), s));
    const held = holdSlot();
    const peer = freshPeer();
    for (let i = 0; i < 7; i++) {
      const res = await token(loginBody({ public_key: 'flood' }), {}, peer, s);
      expect(res.headers.get('retry-after')).toBe('1');
      await expectErr(res, 503, BUSY);
    }
    // An unknown user takes the same (dummy) hashing path, so it is refused the same way.
    await expectErr(
      await token(loginBody({ public_key: 'flood', provider_data: { username: 'ghost', password: 'x' } }), {}, peer, s),
      503,
      BUSY,
    );
    // Checks before hashing still answer normally.
    await expectExtraction(await token(loginBody({ client_name: '' }), {}, peer, s), 422, 'Validation error: ');
    expect((await s.request('/auth/validate', { headers: bearer(access) })).status).toBe(200);
    release?.();
    await held;
    // Eight 503s did not lock the identity or the address.
    await expectPair(await token(loginBody({ public_key: 'flood' }), {}, peer, s));
  });

  it('a locked identity answers 429 without touching the hashing slots', async () => {
    const peer = freshPeer();
    for (let i = 0; i < 5; i++) {
      await expectErr(
        await token(loginBody({ public_key: 'flood-2', provider_data: { username: 'admin', password: 'x' } }), {}, peer, s),
        401,
        INVALID_CREDENTIALS,
      );
    }
    const held = holdSlot();
    await expectErr(await token(loginBody({ public_key: 'flood-2' }), {}, peer, s), 429, RATE_LIMITED);
    release?.();
    await held;
  });
});

describe('POST /auth/token: responses', () => {
  it('answers 429 and 503 as JSON envelopes with CORS and security headers', async () => {
    const s = await makeTestService({ rate_limit: { max_failures: 1 } });
    try {
      const peer = freshPeer();
      await expectErr(
        await token(loginBody({ provider_data: { username: 'admin', password: 'x' } }), {}, peer, s),
        401,
        INVALID_CREDENTIALS,
      );
      const res = await token(loginBody(), {}, peer, s);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      await expectErr(res, 429, RATE_LIMITED);
    } finally {
      await s.close();
    }
  });

  it('a time far in the future does not matter: timestamp is never checked against the clock', async () => {
    await expectPair(await token(loginBody({ timestamp: Number.MAX_SAFE_INTEGER })));
  });
});
