/**
 * GET | HEAD | POST /auth/validate (wire §3.4 rows 1–5) and the node-host binding (§4.6).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tokenFromRequest } from '../../src/auth/validate.js';
import { nowSeconds } from '../../src/util/clock.js';
import {
  adminKeyId,
  bearer,
  claimsFor,
  decodeJwt,
  expectErr,
  expectPermissiveCors,
  expectSecurityHeaders,
  forgeForeign,
  forgeSigned,
  forgeUnsigned,
  mintPair,
  NO_HOST_MESSAGE,
  updateKey,
} from '../helpers/http.js';
import { CLIENT_PEER, PROXY_PEER, testServices, type TestService } from '../helpers/service.js';

const OK_BODY = '{"data":"","error":null}';
const service = testServices();

let t: TestService;
let access: string;
let refresh: string;
let keyId: string;
beforeAll(async () => {
  t = await service();
  ({ access, refresh } = await t.login());
  keyId = await adminKeyId(t);
});

type Method = 'GET' | 'HEAD' | 'POST';
function validate(headers: Record<string, string>, method: Method = 'GET', s = t): Promise<Response> {
  return s.request('/auth/validate', { method, headers });
}

async function expectOk(res: Response, user: string, permissions: string | null = 'admin'): Promise<void> {
  expect(res.status).toBe(200);
  expect(res.headers.get('x-auth-error')).toBeNull();
  expect(res.headers.get('x-auth-user')).toBe(user);
  expect(res.headers.get('x-auth-permissions')).toBe(permissions);
  expect(await res.text()).toBe(OK_BODY);
}

/** An invalid-token 401 (§3.4 row 2) with its exact detail. */
async function expectInvalid(res: Response, detail: string): Promise<void> {
  await expectErr(res, 401, `Invalid token: Invalid token: ${detail}`, 'invalid_token');
}

describe('/auth/validate: success', () => {
  it.each<Method>(['GET', 'POST'])('%s → 200 {"data":"","error":null} with X-Auth-User and X-Auth-Permissions', async (m) => {
    const res = await validate(bearer(access), m);
    expect(res.headers.get('content-type')).toBe('application/json');
    expectPermissiveCors(res);
    expectSecurityHeaders(res);
    await expectOk(res, keyId);
  });

  it('HEAD → the same status and headers, no body', async () => {
    const get = await validate(bearer(access), 'GET');
    const head = await validate(bearer(access), 'HEAD');
    expect(head.status).toBe(200);
    expect([...head.headers]).toEqual([...get.headers]);
    expect(await head.text()).toBe('');
  });

  it('HEAD keeps X-Auth-Error on a failure', async () => {
    const head = await validate({}, 'HEAD');
    expect(head.status).toBe(401);
    expect(head.headers.get('x-auth-error')).toBe('missing_token');
    expect(await head.text()).toBe('');
  });

  it('POST ignores its body and needs no content type', async () => {
    for (const init of [
      { body: 'not json at all' },
      { body: '{"token":"x"}', headers: { 'content-type': 'application/json' } },
      { body: '' },
    ]) {
      const res = await t.request('/auth/validate', {
        method: 'POST',
        body: init.body,
        headers: { ...bearer(access), ...(init.headers ?? {}) },
      });
      await expectOk(res, keyId);
    }
  });

  it('X-Auth-Permissions is the permissions claim joined with "," (not intersected with the key)', async () => {
    const pair = await mintPair(t, { permissions: ['admin', 'keys:list', 'application[abc]'] });
    await expectOk(await validate(bearer(pair.access)), keyId, 'admin,keys:list,application[abc]');
  });

  it('X-Auth-Permissions is omitted when the claim is empty', async () => {
    const pair = await mintPair(t, { permissions: [] });
    await expectOk(await validate(bearer(pair.access)), keyId, null);
  });

  it('a permission that is not a valid header value is skipped silently', async () => {
    const pair = await mintPair(t, { permissions: ['admin', 'café'] });
    const res = await validate(bearer(pair.access));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-auth-user')).toBe(keyId);
    expect(res.headers.get('x-auth-permissions')).toBeNull();
  });

  it('accepts a token whose header has no typ (typ and kid are ignored)', async () => {
    const claims = claimsFor(t, { sub: keyId, sid: decodeJwt(access).payload.sid as string });
    await expectOk(await validate(bearer(await forgeSigned(t, claims, { alg: 'HS256' }))), keyId);
    await expectOk(await validate(bearer(await forgeSigned(t, claims, { alg: 'HS256', typ: 'at+jwt', kid: 'x' }))), keyId);
  });

  it('requires no permission: a token with no permissions passes (the session probe)', async () => {
    const pair = await mintPair(t, { permissions: [] });
    expect((await validate(bearer(pair.access), 'HEAD')).status).toBe(200);
  });
});

describe('/auth/validate: token sources (§3.4)', () => {
  it('401 missing_token "No token provided" with no token anywhere', async () => {
    await expectErr(await validate({}), 401, 'No token provided', 'missing_token');
    await expectErr(await validate({}, 'POST'), 401, 'No token provided', 'missing_token');
  });

  it.each([
    ['Basic credentials', 'Basic YWRtaW46cGFzcw=='],
    ['a lower-case scheme', 'bearer TOKEN'],
    ['an upper-case scheme', 'BEARER TOKEN'],
    ['"Bearer" alone', 'Bearer'],
    ['"Bearer" without a space', 'BearerTOKEN'],
    ['a non-ASCII value', 'Bearer TOKEN\u00e9'],
    ['a Token scheme', 'Token TOKEN'],
  ])('ignores %s in Authorization (→ missing_token, or the X-Forwarded-Uri token)', async (_name, value) => {
    const authorization = value.replace('TOKEN', access);
    await expectErr(await validate({ authorization, host: 'h' }), 401, 'No token provided', 'missing_token');
    await expectOk(await validate({ authorization, host: 'h', 'x-forwarded-uri': `/ws?token=${access}` }), keyId);
  });

  it('"Bearer " + token: the rest is trimmed', async () => {
    await expectOk(await validate({ authorization: `Bearer    ${access}`, host: 'h' }), keyId);
  });

  it('"Bearer " followed by nothing is an empty token → invalid_token, not missing_token', () => {
    // Fetch Headers (and HTTP parsers) strip trailing whitespace, so this value cannot cross the
    // wire intact; the extraction rule itself is pinned here, and the empty-token answer below.
    expect(tokenFromRequest('Bearer ', undefined)).toBe('');
    expect(tokenFromRequest('Bearer \t ', '/ws?token=x')).toBe('');
  });

  it('an empty token (X-Forwarded-Uri "?token=") → invalid_token', async () => {
    const res = await validate({ 'x-forwarded-uri': '/ws?token=', host: 'h' });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-auth-error')).toBe('invalid_token');
  });

  it('Authorization wins over X-Forwarded-Uri when it is a Bearer value', async () => {
    await expectInvalid(
      await validate({ authorization: 'Bearer garbage', 'x-forwarded-uri': `/ws?token=${access}`, host: 'h' }),
      'Malformed token: InvalidToken',
    );
  });

  it.each([
    ['a WebSocket query', (a: string) => `/ws?token=${a}`, true],
    ['a later query item', (a: string) => `/ws?x=1&token=${a}&y=2`, true],
    ['a token followed by another "?"', (a: string) => `/ws?token=${a}?x=1`, true],
    ['an access_token= item (does not match)', (a: string) => `/ws?access_token=${a}`, false],
    ['an xtoken= item (does not match)', (a: string) => `/ws?xtoken=${a}`, false],
    ['a token after a second "?" (not in the first query part)', (a: string) => `/ws?x=1?token=${a}`, false],
    ['a path without a query', (a: string) => `/ws/token=${a}`, false],
    ['a fragment-looking value', (a: string) => `/ws#?token=${a}`, true],
  ])('X-Forwarded-Uri with %s', async (_name, uri, found) => {
    const res = await validate({ 'x-forwarded-uri': uri(access), host: 'h' });
    if (found) await expectOk(res, keyId);
    else await expectErr(res, 401, 'No token provided', 'missing_token');
  });

  it('the X-Forwarded-Uri token is not URL-decoded', async () => {
    const encoded = access.replace(/\./g, '%2E');
    await expectInvalid(
      await validate({ 'x-forwarded-uri': `/ws?token=${encoded}`, host: 'h' }),
      'Malformed token: InvalidToken',
    );
  });

  it('the first token= item is used', async () => {
    await expectInvalid(
      await validate({ 'x-forwarded-uri': `/ws?token=bad&token=${access}`, host: 'h' }),
      'Malformed token: InvalidToken',
    );
  });
});

describe('/auth/validate: expiry (§4.4 step 5)', () => {
  it.each([
    ['leeway 60', 60],
    ['leeway 0', 0],
  ])('%s: accepted at exp + L, token_expired from exp + L + 1', async (_name, leeway) => {
    const s = await service({ jwt: { leeway_seconds: leeway } });
    const pair = await s.login();
    const id = await adminKeyId(s);
    const exp = decodeJwt(pair.access).payload.exp as number;
    s.clock.set((exp + leeway) * 1000 + 999);
    await expectOk(await validate(bearer(pair.access), 'GET', s), id);
    s.clock.set((exp + leeway + 1) * 1000);
    await expectErr(await validate(bearer(pair.access), 'GET', s), 401, 'Invalid token: Token has expired', 'token_expired');
    const head = await validate(bearer(pair.access), 'HEAD', s);
    expect(head.headers.get('x-auth-error')).toBe('token_expired');
  });

  it('an expired refresh token presented as access reports token_expired (expiry before type)', async () => {
    const s = await service({ jwt: { access_token_expiry: 60, refresh_token_expiry: 120 } });
    const pair = await s.login();
    s.clock.advanceSeconds(120 + 60 + 1);
    await expectErr(await validate(bearer(pair.refresh), 'GET', s), 401, 'Invalid token: Token has expired', 'token_expired');
  });
});

describe('Security: forged and malformed tokens on /auth/validate', () => {
  const claims = () => claimsFor(t, { sub: keyId, sid: decodeJwt(access).payload.sid as string });

  it('a refresh token used as an access token → invalid_token, wrong type', async () => {
    await expectInvalid(await validate(bearer(refresh)), 'Wrong token type: expected Access, got Refresh');
    await expectInvalid(
      await validate({ 'x-forwarded-uri': `/ws?token=${refresh}`, host: 'h' }),
      'Wrong token type: expected Access, got Refresh',
    );
  });

  it.each([
    ['alg none', { alg: 'none' }],
    ['alg none with typ', { typ: 'JWT', alg: 'none' }],
    ['alg HS512', { typ: 'JWT', alg: 'HS512' }],
    ['alg RS256', { typ: 'JWT', alg: 'RS256' }],
    ['alg ES256', { typ: 'JWT', alg: 'ES256' }],
    ['alg hs256 (case matters)', { typ: 'JWT', alg: 'hs256' }],
    ['no alg', { typ: 'JWT' }],
  ])('%s → InvalidAlgorithm', async (_name, header) => {
    await expectInvalid(await validate(bearer(forgeUnsigned(header, claims()))), 'InvalidAlgorithm');
  });

  it('alg none with an empty signature part → invalid_token', async () => {
    const res = await validate(bearer(forgeUnsigned({ alg: 'none' }, claims(), '')));
    expect(res.status).toBe(401);
    expect(res.headers.get('x-auth-error')).toBe('invalid_token');
    expect(((await res.json()) as { error: string }).error).toMatch(/^Invalid token: Invalid token: /);
  });

  it('a valid HS256 token signed with a foreign secret → InvalidSignature', async () => {
    await expectInvalid(await validate(bearer(await forgeForeign(claims()))), 'InvalidSignature');
  });

  it('a real token with its payload swapped (permissions escalated) → InvalidSignature', async () => {
    const [h, , sig] = access.split('.');
    const payload = Buffer.from(JSON.stringify({ ...decodeJwt(access).payload, permissions: ['admin', 'root'] })).toString(
      'base64url',
    );
    await expectInvalid(await validate(bearer(`${h}.${payload}.${sig}`)), 'InvalidSignature');
  });

  it.each([
    ['10 000 characters of garbage', 'a'.repeat(10_000)],
    ['two parts', 'abc.def'],
    ['four parts', 'a.b.c.d'],
    ['empty parts', '..'],
    ['a 10 000-character three-part token', `${'a'.repeat(4000)}.${'b'.repeat(3000)}.${'c'.repeat(2998)}`],
  ])('%s → invalid_token', async (_name, token) => {
    const res = await validate(bearer(token));
    expect(res.status).toBe(401);
    expect(res.headers.get('x-auth-error')).toBe('invalid_token');
    expect(((await res.json()) as { error: string }).error).toMatch(/^Invalid token: Invalid token: /);
  });

  it.each<[string, (c: Record<string, unknown>) => Record<string, unknown>, (c: Record<string, unknown>) => string]>([
    ['a wrong issuer', (c) => ({ ...c, iss: 'someone-else' }), () => 'InvalidIssuer'],
    ['a wrong audience', (c) => ({ ...c, aud: 'someone-else' }), () => 'InvalidAudience'],
    ['an audience array', (c) => ({ ...c, aud: ['calimero-auth'] }), () => 'InvalidAudience'],
    ['no sid', ({ sid: _s, ...c }) => c, () => 'JSON error: missing field `sid`'],
    ['no token_type', ({ token_type: _t, ...c }) => c, () => 'JSON error: missing field `token_type`'],
    [
      'an unknown token_type',
      (c) => ({ ...c, token_type: 'id' }),
      () => 'JSON error: unknown variant `id`, expected `access` or `refresh`',
    ],
    ['no exp', ({ exp: _e, ...c }) => c, () => 'Missing required claim: exp'],
    [
      'a string exp',
      (c) => ({ ...c, exp: String(c.exp) }),
      (c) => `JSON error: invalid type: string "${String(c.exp)}", expected u64`,
    ],
    [
      'a string permissions',
      (c) => ({ ...c, permissions: 'admin' }),
      () => 'JSON error: invalid type: string "admin", expected a sequence',
    ],
  ])('a correctly signed token with %s → invalid_token', async (_name, change, detail) => {
    const original = claims() as unknown as Record<string, unknown>;
    await expectInvalid(await validate(bearer(await forgeSigned(t, change(original)))), detail(original));
  });

  it('a token signed for another issuer configuration fails on this one', async () => {
    const other = await service({ jwt: { issuer: 'other-node' } });
    const pair = await other.login();
    await expectInvalid(await validate(bearer(pair.access)), 'InvalidSignature');
  });
});

describe('/auth/validate: key and session (§3.4 rows 4–5)', () => {
  it('key absent → 401 invalid_token "Key not found"', async () => {
    const pair = await mintPair(t, { sub: 'e'.repeat(64) });
    await expectErr(await validate(bearer(pair.access)), 401, 'Key not found', 'invalid_token');
  });

  it('key expired → 401 invalid_token "Key not found"; key revoked → 403 token_revoked', async () => {
    const s = await service();
    const id = await adminKeyId(s);
    const pair = await s.login();
    await updateKey(s, id, { expires_at: nowSeconds(s.clock) });
    await expectErr(await validate(bearer(pair.access), 'GET', s), 401, 'Key not found', 'invalid_token');
    await updateKey(s, id, { expires_at: null, revoked_at: nowSeconds(s.clock) });
    await expectErr(await validate(bearer(pair.access), 'GET', s), 403, 'Key has been revoked', 'token_revoked');
    const head = await validate(bearer(pair.access), 'HEAD', s);
    expect(head.status).toBe(403);
    expect(head.headers.get('x-auth-error')).toBe('token_revoked');
  });

  it('session absent → 401 invalid_token "Session not found"', async () => {
    const pair = await mintPair(t, { session: false });
    await expectErr(await validate(bearer(pair.access)), 401, 'Session not found', 'invalid_token');
  });

  it('after /auth/logout the access token → 403 token_revoked "Session has been revoked"; other sessions live', async () => {
    const mine = await t.login();
    const other = await t.login();
    const out = await t.post('/auth/logout', { refresh_token: mine.refresh });
    expect(out.status).toBe(200);
    await expectErr(await validate(bearer(mine.access)), 403, 'Session has been revoked', 'token_revoked');
    await expectOk(await validate(bearer(other.access)), keyId);
  });
});

// Forward-auth enforcement (§3.4 row 6) has its own suite: test/http/forward-auth.test.ts.

describe('Security: host spoofing and node binding on /auth/validate (§4.6)', () => {
  let bound: string; // a token for https://node1.example.com
  let nodeA: string; // a token for https://node-a.example
  beforeAll(async () => {
    bound = (await t.login({ client_name: 'https://node1.example.com/auth/login?x=1' })).access;
    nodeA = (await t.login({ client_name: 'https://node-a.example' })).access;
  });
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  const mismatch = (tokenHost: string, requestHost: string) =>
    `Token is not valid for this host. Token is for '${tokenHost}' but request is to '${requestHost}'`;

  it.each<[string, Record<string, string>, string | null]>([
    ['Host node1.example.com', { host: 'node1.example.com' }, null],
    ['Host with a port', { host: 'node1.example.com:8443' }, null],
    ['Host in upper case', { host: 'NODE1.Example.COM' }, null],
    ['X-Forwarded-Host without Host', { 'x-forwarded-host': 'node1.example.com' }, null],
    ['Host auth:3001 (the internal bypass)', { host: 'auth:3001' }, null],
    ['Host node2.example.com', { host: 'node2.example.com' }, mismatch('node1.example.com', 'node2.example.com')],
    [
      'a suffix attack',
      { host: 'node1.example.com.attacker.com' },
      mismatch('node1.example.com', 'node1.example.com.attacker.com'),
    ],
    ['a prefix attack', { host: 'evilnode1.example.com' }, mismatch('node1.example.com', 'evilnode1.example.com')],
    ['no host header at all', {}, NO_HOST_MESSAGE],
    [
      'a spoofed X-Forwarded-Host wins over Host',
      { host: 'node1.example.com', 'x-forwarded-host': 'node-b.evil' },
      mismatch('node1.example.com', 'node-b.evil'),
    ],
    [
      'a non-ASCII X-Forwarded-Host: no host, no fallback to Host',
      { host: 'node1.example.com', 'x-forwarded-host': 'nöde1.example.com' },
      NO_HOST_MESSAGE,
    ],
  ])('%s', async (_name, headers, failure) => {
    const res = await validate({ ...auth(bound), ...headers });
    if (failure === null) await expectOk(res, keyId);
    else await expectErr(res, 403, failure, 'invalid_node');
  });

  describe('from a direct client (a peer outside server.trusted_proxies, issue 10 item 4)', () => {
    const direct = (headers: Record<string, string>, peer = CLIENT_PEER, s = t) => s.request('/auth/validate', { headers, peer });

    it("its X-Forwarded-Host is not believed: Host decides, so a node-b request cannot borrow node1's name", async () => {
      const spoof = { ...auth(bound), host: 'node2.example.com', 'x-forwarded-host': 'node1.example.com' };
      await expectErr(await direct(spoof), 403, mismatch('node1.example.com', 'node2.example.com'), 'invalid_node');
      await expectOk(await direct({ ...auth(bound), host: 'node1.example.com', 'x-forwarded-host': 'node-b.evil' }), keyId);
      // The same request from the proxy on loopback (trusted by default) is judged by the header.
      await expectOk(await direct(spoof, PROXY_PEER), keyId);
    });

    it('neither is its X-Forwarded-Uri: no token from its query, no forwarded route to enforce', async () => {
      const res = await direct({ host: 'localhost:3001', 'x-forwarded-uri': `/ws?token=${bound}` });
      expect({ status: res.status, xae: res.headers.get('x-auth-error') }).toEqual({ status: 401, xae: 'missing_token' });
    });

    it('an IPv4-mapped loopback peer is loopback; server.trusted_proxies = [] trusts no one, loopback included', async () => {
      const spoof = { ...auth(bound), host: 'node2.example.com', 'x-forwarded-host': 'node1.example.com' };
      await expectOk(await direct(spoof, '::ffff:127.0.0.1'), keyId);
      const none = await service({ server: { trusted_proxies: [] } });
      const token = (await none.login({ client_name: 'https://node1.example.com' })).access;
      const res = await direct({ ...spoof, authorization: `Bearer ${token}` }, PROXY_PEER, none);
      expect({ status: res.status, xae: res.headers.get('x-auth-error') }).toEqual({ status: 403, xae: 'invalid_node' });
    });
  });

  it('two X-Forwarded-Host lines are joined with ", " and never match', async () => {
    const headers = new Headers(auth(bound));
    headers.append('x-forwarded-host', 'node1.example.com');
    headers.append('x-forwarded-host', 'node1.example.com');
    const res = await t.request('/auth/validate', { headers });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-auth-error')).toBe('invalid_node');
  });

  it.each(['auth', 'auth:1', 'auth:80', 'auth:443', 'auth:2428', 'auth:3001', 'auth:8080', 'auth:65535'])(
    'internal bypass accepts Host %s',
    async (host) => {
      await expectOk(await validate({ ...auth(nodeA), host }), keyId);
    },
  );

  it.each([
    'auth:',
    'auth:abc',
    'auth:80abc',
    'auth:abc80',
    'auth:80.0',
    'auth:80:80',
    'auth:-3001',
    'auth:+3001',
    'auth: 3001',
    'AUTH',
    'Auth',
    'AUTH:3001',
    'authentication',
    'auth-service',
    'auth_service',
    'authservice:3001',
    'auth:malicious.com',
    'auth:evil.example.com',
    'localhost',
    'localhost:3001',
    'example.com',
  ])('internal bypass rejects Host %j (then the normal comparison fails)', async (host) => {
    await expectErr(await validate({ ...auth(nodeA), host }), 403, mismatch('node-a.example', host), 'invalid_node');
  });

  it('a token without node_url passes with no host headers at all', async () => {
    const pair = await mintPair(t);
    expect(decodeJwt(pair.access).payload).not.toHaveProperty('node_url');
    await expectOk(await validate(auth(pair.access)), keyId);
  });

  it.each(['mero-js-sdk', 'meroctl-cli', 'auth-seam-e2e', 'localhost:2428'])(
    'a node_url without a host (%s) only requires some host header',
    async (nodeUrl) => {
      const pair = await mintPair(t, { nodeUrl });
      await expectOk(await validate({ ...auth(pair.access), host: 'anything.example' }), keyId);
      await expectErr(await validate(auth(pair.access)), 403, NO_HOST_MESSAGE, 'invalid_node');
    },
  );

  it('without node_host, a node-a token: X-Forwarded-Host node-a passes, node-b.evil and auth:evil.com fail, auth:2428 passes', async () => {
    await expectOk(await validate({ ...auth(nodeA), 'x-forwarded-host': 'node-a.example' }), keyId);
    await expectErr(
      await validate({ ...auth(nodeA), 'x-forwarded-host': 'node-b.evil' }),
      403,
      mismatch('node-a.example', 'node-b.evil'),
      'invalid_node',
    );
    await expectErr(
      await validate({ ...auth(nodeA), 'x-forwarded-host': 'auth:evil.com' }),
      403,
      mismatch('node-a.example', 'auth:evil.com'),
      'invalid_node',
    );
    await expectOk(await validate({ ...auth(nodeA), 'x-forwarded-host': 'auth:2428' }), keyId);
  });

  it('with jwt.node_host = node-b.example a spoofed X-Forwarded-Host changes nothing', async () => {
    const s = await service({ jwt: { node_host: 'node-b.example' } });
    const id = await adminKeyId(s);
    const b = (await s.login({ client_name: 'http://node-b.example:2428' })).access;
    const a = (await s.login({ client_name: 'http://node-a.example' })).access;
    await expectOk(await validate({ ...auth(b), 'x-forwarded-host': 'node-a.example' }, 'GET', s), id);
    await expectOk(await validate(auth(b), 'GET', s), id);
    await expectErr(
      await validate({ ...auth(a), 'x-forwarded-host': 'node-a.example', host: 'node-a.example' }, 'GET', s),
      403,
      mismatch('node-a.example', 'node-b.example'),
      'invalid_node',
    );
    // The bypass host is only a bypass when it is the request host; node_host replaces it.
    await expectErr(
      await validate({ ...auth(a), host: 'auth:3001' }, 'GET', s),
      403,
      mismatch('node-a.example', 'node-b.example'),
      'invalid_node',
    );
  });

  it('with jwt.node_host = localhost:2428', async () => {
    const s = await service({ jwt: { node_host: 'localhost:2428' } });
    const id = await adminKeyId(s);
    const good = (await s.login({ client_name: 'http://localhost:2428' })).access;
    const evil = (await s.login({ client_name: 'http://evil.example:2428' })).access;
    await expectOk(await validate(auth(good), 'GET', s), id);
    await expectErr(await validate(auth(evil), 'GET', s), 403, mismatch('evil.example', 'localhost:2428'), 'invalid_node');
  });

  it('the node check runs before the key and session checks (row 3 before rows 4–5)', async () => {
    const pair = await mintPair(t, { sub: 'd'.repeat(64), nodeUrl: 'https://node1.example.com', session: false });
    await expectErr(
      await validate({ ...auth(pair.access), host: 'other.example' }),
      403,
      mismatch('node1.example.com', 'other.example'),
      'invalid_node',
    );
    await expectErr(await validate({ ...auth(pair.access), host: 'node1.example.com' }), 401, 'Key not found', 'invalid_token');
  });
});
