/**
 * Bad inputs against every public route: each gets its documented status and body shape, never
 * a 500, and afterwards the service still logs in and validates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nowSeconds } from '../../src/util/clock.js';
import {
  claimsFor,
  expectPair,
  forgeSigned,
  forgeUnsigned,
  freshPeer,
  loginBody,
  NO_HOST_MESSAGE,
  sizedInit,
  TWO_MIB,
} from '../helpers/http.js';
import { ADMIN, makeTestService, PROXY_PEER, type TestService } from '../helpers/service.js';

const MOCK_HEADER = 'Bearer mock-secret';
/** Control characters, bidi override, emoji, CJK: everything the sanitisers must cope with. */
const JUNK = '\u0000\u0007\u001b\u007f\u202e\u00e9\u65e5\u672c\ud83d\ude00';
/** Junk without any letter, number, '-' or '_' and without printable ASCII. */
const JUNK_EMPTY = '\u0000\u0007\u001b\u007f\u202e\ud83d\ude00';
/** What a header value may carry (latin-1, no NUL/CR/LF). */
const HEADER_JUNK = '\u0007\u00e9\u007f\u0001';
const LONG = 'A'.repeat(10_000);
const CT = 'Invalid JSON: Expected request with `Content-Type: application/json`';
const PARSE = 'Invalid JSON: Failed to parse the request body as JSON: ';
const DESER = 'Invalid JSON: Failed to deserialize the JSON body into the target type: ';
const MALFORMED = 'Invalid token: Malformed token: InvalidToken';

let s: TestService;
let access: string; // fresh, not node-bound to a URL
let refresh: string;
let oldAccess: string; // expired past the leeway, in a live session
let oldRefresh: string;
let boundOldAccess: string; // the same, bound to https://node1.example.com
let boundOldRefresh: string;
let boundAccess: string;

/** A pair of a live session whose access token expired an hour ago (refresh proceeds past step 3). */
async function oldPair(nodeUrl?: string): Promise<[string, string]> {
  const user = await s.svc.core.users.get(ADMIN.username);
  const sub = user?.key_id ?? '';
  const now = nowSeconds(s.clock);
  const { sid, ops } = s.svc.core.sessions.openOps(sub, now + 86_400, now);
  await s.svc.core.store.batch(ops);
  const iat = now - 3600;
  const opts = { sub, sid, iat, ...(nodeUrl === undefined ? {} : { nodeUrl }) };
  return [
    await forgeSigned(s, claimsFor(s, { ...opts, type: 'access' })),
    await forgeSigned(s, claimsFor(s, { ...opts, type: 'refresh' })),
  ];
}

beforeAll(async () => {
  s = await makeTestService({ development: { enable_mock_auth: true, mock_auth_header_value: MOCK_HEADER } });
  ({ access, refresh } = await s.login());
  [oldAccess, oldRefresh] = await oldPair();
  [boundOldAccess, boundOldRefresh] = await oldPair('https://node1.example.com');
  boundAccess = (await s.login({ client_name: 'https://node1.example.com/app' })).access;
});
afterAll(async () => {
  await s.close();
});

type Expect =
  | { status: 200; shape: 'ok' }
  | { status: 400 | 422; shape: 'extraction'; prefix: string }
  | { status: number; shape: 'envelope'; message: string | RegExp; xae?: string }
  | { status: 413; shape: 'text' };

interface Case {
  route: string;
  name: string;
  run: () => Promise<Response>;
  expect: Expect;
}

let seq = 0;
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  s.post(path, body, { host: 'localhost:3001', ...headers }, freshPeer());
/** Through the trusted proxy, whose X-Forwarded-* headers are believed. */
const proxied = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  s.post(path, body, { host: 'localhost:3001', ...headers }, PROXY_PEER);
const raw = (path: string, body: string, headers: Record<string, string>) =>
  s.request(path, { method: 'POST', body, headers: { host: 'localhost:3001', ...headers }, peer: freshPeer() });
const get = (path: string, headers: Record<string, string> = {}) => s.request(path, { headers });
const token = (change: Record<string, unknown>, headers: Record<string, string> = {}) =>
  post('/auth/token', loginBody({ public_key: `bad-input-${++seq}`, ...change }), headers);
const pd = (change: Record<string, unknown>) => ({
  provider_data: { username: ADMIN.username, password: ADMIN.password, ...change },
});
const validate = (headers: Record<string, string>) => s.request('/auth/validate', { headers });
const mock = (body: unknown, headers: Record<string, string> = { authorization: MOCK_HEADER }) =>
  post('/auth/mock-token', body, headers);

const ok: Expect = { status: 200, shape: 'ok' };
const ext = (status: 400 | 422, prefix: string): Expect => ({ status, shape: 'extraction', prefix });
const env = (status: number, message: string | RegExp, xae?: string): Expect => ({
  status,
  shape: 'envelope',
  message,
  ...(xae ? { xae } : {}),
});
const CREDS = 'Authentication failed: Authentication failed: Invalid username or password';

const BODY_ROUTES: Array<[string, string]> = [
  ['/auth/token', 'auth_method'],
  ['/auth/refresh', 'access_token'],
  ['/auth/logout', 'refresh_token'],
  ['/auth/mock-token', 'client_name'],
];

// biome-ignore format: one case per line reads as a table
const cases: Case[] = [
  // Malformed JSON, wrong content type, missing and mistyped fields, on every body route.
  ...BODY_ROUTES.flatMap(([route, first]): Case[] => [
    { route, name: 'malformed JSON', run: () => raw(route, '{"x":', { 'content-type': 'application/json' }), expect: ext(400, PARSE) },
    { route, name: 'an empty body', run: () => raw(route, '', { 'content-type': 'application/json' }), expect: ext(400, PARSE) },
    { route, name: 'text/plain', run: () => raw(route, '{}', { 'content-type': 'text/plain' }), expect: ext(400, CT) },
    { route, name: 'no content type', run: () => raw(route, '{}', {}), expect: ext(400, CT) },
    { route, name: 'form encoding', run: () => raw(route, 'a=b', { 'content-type': 'application/x-www-form-urlencoded' }), expect: ext(400, CT) },
    { route, name: 'missing fields', run: () => post(route, {}), expect: ext(400, `${DESER}missing field \`${first}\``) },
    { route, name: 'a top-level array', run: () => post(route, [1, 2]), expect: ext(400, DESER) },
    { route, name: 'numbers for every field', run: () => post(route, { auth_method: 1, public_key: 2, client_name: 3, timestamp: 4, provider_data: 5, access_token: 6, refresh_token: 7 }), expect: ext(400, DESER) },
    { route, name: 'nulls for every field', run: () => post(route, { auth_method: null, public_key: null, client_name: null, timestamp: null, provider_data: null, access_token: null, refresh_token: null }), expect: ext(400, DESER) },
    { route, name: 'a 2 MiB body', run: () => s.request(route, { ...sizedInit(TWO_MIB), peer: freshPeer() }), expect: { status: 413, shape: 'text' } },
    { route, name: 'deeply nested JSON', run: () => raw(route, `${'['.repeat(5000)}${']'.repeat(5000)}`, { 'content-type': 'application/json' }), expect: ext(400, DESER) },
  ]),

  // POST /auth/token: non-ASCII and control characters in every string field.
  { route: '/auth/token', name: 'junk after auth_method (letters survive)', run: () => token({ auth_method: `user_password${JUNK}` }), expect: env(401, 'Authentication failed: Invalid request: Unsupported authentication method: user_password\u00e9\u65e5\u672c') },
  { route: '/auth/token', name: 'junk-only auth_method', run: () => token({ auth_method: JUNK_EMPTY }), expect: env(400, 'Authentication method must contain valid characters') },
  { route: '/auth/token', name: 'junk after public_key', run: () => token({ public_key: `admin${JUNK}` }), expect: ok },
  { route: '/auth/token', name: 'junk-only public_key', run: () => token({ public_key: JUNK }), expect: env(400, 'Public key cannot be empty after sanitization') },
  { route: '/auth/token', name: 'junk after client_name', run: () => token({ client_name: `mero-js-sdk${JUNK}` }), expect: ok },
  { route: '/auth/token', name: 'junk-only client_name', run: () => token({ client_name: JUNK }), expect: env(400, 'Client name cannot be empty after sanitization') },
  { route: '/auth/token', name: 'junk in the username', run: () => token(pd({ username: `admin${JUNK}` })), expect: env(401, CREDS) },
  { route: '/auth/token', name: 'junk in the password', run: () => token(pd({ password: `${ADMIN.password}${JUNK}` })), expect: env(401, CREDS) },
  { route: '/auth/token', name: 'a 10 000-character public_key', run: () => token({ public_key: LONG }), expect: ok },
  { route: '/auth/token', name: 'a 10 000-character client_name', run: () => token({ client_name: LONG }), expect: ok },
  { route: '/auth/token', name: 'a 10 000-character username', run: () => token(pd({ username: LONG })), expect: env(401, CREDS) },
  { route: '/auth/token', name: 'a 10 000-character password', run: () => token(pd({ password: LONG })), expect: env(401, 'Authentication failed: Authentication failed: Password must be at most 128 characters long') },
  { route: '/auth/token', name: 'a 10 000-character auth_method', run: () => token({ auth_method: LONG }), expect: env(401, `Authentication failed: Invalid request: Unsupported authentication method: ${LONG}`) },
  { route: '/auth/token', name: 'a garbage Authorization header', run: () => token({}, { authorization: `Bearer ${LONG}` }), expect: ok },
  { route: '/auth/token', name: 'a spoofed X-Forwarded-Host', run: () => token({}, { 'x-forwarded-host': 'evil.example' }), expect: ok },
  { route: '/auth/token', name: 'a prototype-pollution body', run: () => raw('/auth/token', JSON.stringify(loginBody({ public_key: 'proto' })).replace('{', '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},'), { 'content-type': 'application/json' }), expect: ok },

  // POST /auth/refresh.
  { route: '/auth/refresh', name: 'junk as access_token', run: () => post('/auth/refresh', { access_token: JUNK, refresh_token: oldRefresh }), expect: env(401, `Invalid access token: ${MALFORMED}`) },
  { route: '/auth/refresh', name: 'junk as refresh_token', run: () => post('/auth/refresh', { access_token: oldAccess, refresh_token: JUNK }), expect: env(401, `Invalid refresh token: ${MALFORMED}`) },
  { route: '/auth/refresh', name: 'a 10 000-character access_token', run: () => post('/auth/refresh', { access_token: LONG, refresh_token: oldRefresh }), expect: env(401, `Invalid access token: ${MALFORMED}`) },
  { route: '/auth/refresh', name: 'a 10 000-character refresh_token', run: () => post('/auth/refresh', { access_token: oldAccess, refresh_token: LONG }), expect: env(401, `Invalid refresh token: ${MALFORMED}`) },
  { route: '/auth/refresh', name: 'an alg-none access token', run: () => post('/auth/refresh', { access_token: forgeUnsigned({ alg: 'none' }, { exp: 1 }), refresh_token: oldRefresh }), expect: env(401, 'Invalid access token: Invalid token: InvalidAlgorithm') },
  { route: '/auth/refresh', name: 'an HS512 refresh token', run: () => post('/auth/refresh', { access_token: oldAccess, refresh_token: forgeUnsigned({ alg: 'HS512', typ: 'JWT' }, { exp: 1 }) }), expect: env(401, 'Invalid refresh token: Invalid token: InvalidAlgorithm') },
  { route: '/auth/refresh', name: 'a refresh token as the access token', run: () => post('/auth/refresh', { access_token: refresh, refresh_token: refresh }), expect: env(401, 'Invalid access token: Invalid token: Wrong token type: expected Access, got Refresh') },
  { route: '/auth/refresh', name: 'a fresh access token (still valid)', run: () => post('/auth/refresh', { access_token: access, refresh_token: refresh }), expect: env(401, 'Access token still valid') },
  { route: '/auth/refresh', name: 'a spoofed X-Forwarded-Host on a bound pair', run: () => proxied('/auth/refresh', { access_token: boundOldAccess, refresh_token: boundOldRefresh }, { host: 'node1.example.com', 'x-forwarded-host': 'evil.example' }), expect: env(403, "Token is not valid for this host. Token is for 'node1.example.com' but request is to 'evil.example'", 'invalid_node') },
  { route: '/auth/refresh', name: 'a junk X-Forwarded-Host on a bound pair', run: () => proxied('/auth/refresh', { access_token: boundOldAccess, refresh_token: boundOldRefresh }, { host: 'node1.example.com', 'x-forwarded-host': `node1.example.com${HEADER_JUNK}` }), expect: env(403, NO_HOST_MESSAGE, 'invalid_node') },

  // POST /auth/logout.
  { route: '/auth/logout', name: 'junk as refresh_token', run: () => post('/auth/logout', { refresh_token: JUNK }), expect: env(401, `Invalid refresh token: ${MALFORMED}`) },
  { route: '/auth/logout', name: 'a 10 000-character refresh_token', run: () => post('/auth/logout', { refresh_token: LONG }), expect: env(401, `Invalid refresh token: ${MALFORMED}`) },
  { route: '/auth/logout', name: 'an alg-none refresh token', run: () => post('/auth/logout', { refresh_token: forgeUnsigned({ alg: 'none' }, { exp: 1 }, '') }), expect: env(401, /^Invalid refresh token: Invalid token: /) },
  { route: '/auth/logout', name: 'an access token', run: () => post('/auth/logout', { refresh_token: access }), expect: env(401, 'Invalid refresh token: Invalid token: Wrong token type: expected Refresh, got Access') },

  // POST /auth/mock-token (enabled here).
  { route: '/auth/mock-token', name: 'junk after client_name', run: () => mock({ client_name: `ok${JUNK}` }), expect: ok },
  { route: '/auth/mock-token', name: 'junk-only client_name', run: () => mock({ client_name: JUNK }), expect: env(400, 'Client name cannot be empty after sanitization') },
  { route: '/auth/mock-token', name: 'junk node_url', run: () => mock({ client_name: 'n', node_url: JUNK }), expect: ok },
  { route: '/auth/mock-token', name: 'a 10 000-character client_name', run: () => mock({ client_name: LONG }), expect: ok },
  { route: '/auth/mock-token', name: 'a 10 000-character Authorization', run: () => mock({ client_name: 'x' }, { authorization: LONG }), expect: env(401, 'Invalid or missing authorization for mock endpoint') },
  { route: '/auth/mock-token', name: 'a junk Authorization', run: () => mock({ client_name: 'x' }, { authorization: `Bearer ${HEADER_JUNK}` }), expect: env(401, 'Invalid or missing authorization for mock endpoint') },
  { route: '/auth/mock-token', name: 'a negative expiry', run: () => mock({ client_name: 'x', access_token_expiry: -5 }), expect: ext(400, DESER) },
  { route: '/auth/mock-token', name: 'a non-string permission', run: () => mock({ client_name: 'x', permissions: [null] }), expect: ext(400, DESER) },

  // /auth/validate: body and content type are ignored; tokens of every kind.
  { route: '/auth/validate', name: 'malformed JSON (ignored)', run: () => raw('/auth/validate', '{"x":', { 'content-type': 'application/json' }), expect: env(401, 'No token provided', 'missing_token') },
  { route: '/auth/validate', name: 'a 2 MiB body', run: () => s.request('/auth/validate', sizedInit(TWO_MIB)), expect: { status: 413, shape: 'text' } },
  { route: '/auth/validate', name: 'a junk Bearer value (ignored: not visible ASCII)', run: () => validate({ authorization: `Bearer ${HEADER_JUNK}` }), expect: env(401, 'No token provided', 'missing_token') },
  { route: '/auth/validate', name: 'a junk X-Forwarded-Uri token', run: () => validate({ 'x-forwarded-uri': `/ws?token=${HEADER_JUNK}` }), expect: env(401, `Invalid token: ${MALFORMED}`, 'invalid_token') },
  { route: '/auth/validate', name: 'a 10 000-character bearer', run: () => validate({ authorization: `Bearer ${LONG}` }), expect: env(401, `Invalid token: ${MALFORMED}`, 'invalid_token') },
  { route: '/auth/validate', name: 'a 10 000-character X-Forwarded-Uri token', run: () => validate({ 'x-forwarded-uri': `/ws?token=${LONG}` }), expect: env(401, `Invalid token: ${MALFORMED}`, 'invalid_token') },
  { route: '/auth/validate', name: 'an alg-none token', run: () => validate({ authorization: `Bearer ${forgeUnsigned({ alg: 'none' }, { exp: 1 })}` }), expect: env(401, 'Invalid token: Invalid token: InvalidAlgorithm', 'invalid_token') },
  { route: '/auth/validate', name: 'an HS512 token', run: () => validate({ authorization: `Bearer ${forgeUnsigned({ alg: 'HS512' }, { exp: 1 })}` }), expect: env(401, 'Invalid token: Invalid token: InvalidAlgorithm', 'invalid_token') },
  { route: '/auth/validate', name: 'a refresh token as access', run: () => validate({ authorization: `Bearer ${refresh}`, host: 'h' }), expect: env(401, 'Invalid token: Invalid token: Wrong token type: expected Access, got Refresh', 'invalid_token') },
  { route: '/auth/validate', name: 'a spoofed X-Forwarded-Host', run: () => validate({ authorization: `Bearer ${boundAccess}`, host: 'node1.example.com', 'x-forwarded-host': 'evil.example' }), expect: env(403, "Token is not valid for this host. Token is for 'node1.example.com' but request is to 'evil.example'", 'invalid_node') },
  { route: '/auth/validate', name: 'a junk X-Forwarded-Host', run: () => validate({ authorization: `Bearer ${boundAccess}`, host: 'node1.example.com', 'x-forwarded-host': HEADER_JUNK }), expect: env(403, NO_HOST_MESSAGE, 'invalid_node') },
  { route: '/auth/validate', name: 'a junk Host', run: () => validate({ authorization: `Bearer ${boundAccess}`, host: `node1.example.com${HEADER_JUNK}` }), expect: env(403, /^Token is not valid for this host\. /, 'invalid_node') },

  // GET routes shrug off junk headers and queries.
  ...['/auth/providers', '/auth/health', '/auth/ready', '/auth/login', '/auth/callback'].map((route): Case => ({
    route,
    name: 'junk headers and query',
    run: () => get(`${route}?callback-url=${encodeURIComponent(JUNK)}&x=${LONG}`, { authorization: `Bearer ${LONG}`, 'x-forwarded-host': HEADER_JUNK, 'x-forwarded-uri': HEADER_JUNK, 'content-type': 'text/plain' }),
    expect: ok,
  })),
];

describe('Security: bad inputs against every public route', () => {
  it.each(cases.map((c) => [c.route, c.name, c] as const))('%s: %s', async (_route, _name, c) => {
    const res = await c.run();
    const text = await res.text();
    expect(res.status, text.slice(0, 300)).toBe(c.expect.status);
    expect(res.status).not.toBe(500);
    expect(text).not.toMatch(/Service panicked|\bat .*\(|node_modules/);
    switch (c.expect.shape) {
      case 'ok':
        expect(res.headers.get('x-auth-error')).toBeNull();
        if (res.headers.get('content-type') === 'application/json') {
          expect((JSON.parse(text) as { error: unknown }).error).toBeNull();
        }
        break;
      case 'extraction': {
        expect(res.headers.get('content-type')).toBe('application/json');
        const json = JSON.parse(text) as { error: string; status: number };
        expect(Object.keys(json)).toEqual(['error', 'status']);
        expect(json.status).toBe(c.expect.status);
        expect(json.error.startsWith(c.expect.prefix), json.error).toBe(true);
        expect(res.headers.get('x-auth-error')).toBeNull();
        break;
      }
      case 'envelope': {
        expect(res.headers.get('content-type')).toBe('application/json');
        const json = JSON.parse(text) as { data: unknown; error: string };
        expect(Object.keys(json)).toEqual(['data', 'error']);
        expect(json.data).toBeNull();
        if (typeof c.expect.message === 'string') expect(json.error).toBe(c.expect.message);
        else expect(json.error).toMatch(c.expect.message);
        expect(res.headers.get('x-auth-error')).toBe(c.expect.xae ?? null);
        break;
      }
      case 'text':
        expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
        expect(text).toBe('length limit exceeded');
        break;
    }
  });

  it('afterwards the service still logs in, validates and refreshes', async () => {
    const pair = await expectPair(await s.post('/auth/token', loginBody(), {}, freshPeer()));
    const v = await s.request('/auth/validate', { headers: { authorization: `Bearer ${pair.access}`, host: 'localhost' } });
    expect(v.status).toBe(200);
    await expectPair(
      await s.post('/auth/refresh', { access_token: oldAccess, refresh_token: oldRefresh }, { host: 'localhost' }),
    );
    expect((await s.request('/auth/health')).status).toBe(200);
    expect((await s.request('/auth/ready')).status).toBe(200);
  });
});
