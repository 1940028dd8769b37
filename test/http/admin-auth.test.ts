/**
 * The `/admin` middleware (wire §5.1, §1.2, §2.3; permissions.md §8.6): the authorisation matrix
 * (every route × every kind of credential), the 405-after-authentication rule, the plain 404 for
 * paths that name no route, and the raw-path rules of permissions.md §12.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerToken, checkBearerToken } from '../../src/auth/bearer.js';
import { AuthError } from '../../src/errors.js';
import { signClaims } from '../../src/tokens/mint.js';
import { claimsFor, expectEmpty, expectPair, forgeForeign, forgeUnsigned, mintPair, T0, updateKey } from '../helpers/http.js';
import {
  adminWorld,
  call,
  clientCaller,
  expectCaller,
  expectData,
  expectRejected,
  expectText,
  type AdminWorld,
  type Caller,
} from './admin-fixtures.js';

let w: AdminWorld;
/** A key the permission routes read and "update" (a no-op PUT keeps it unchanged). */
let target: Caller;
/** Credentials the bearer check refuses, keyed by case name. */
const bad: Record<string, string> = {};

beforeAll(async () => {
  w = await adminWorld();
  const { t, adminId } = w;
  target = await clientCaller(t, adminId, ['context:list']);

  bad.garbage = 'not-a-jwt';
  const old = claimsFor(t, { sub: adminId, iat: T0 - 100_000 });
  bad.expired = await signClaims(old, t.svc.core.secrets);
  const oldRefresh = claimsFor(t, { sub: adminId, iat: T0 - 10_000_000, type: 'refresh' });
  bad.expiredRefresh = await signClaims(oldRefresh, t.svc.core.secrets);
  bad.refreshAsAccess = w.admin.refresh;
  bad.foreign = await forgeForeign(claimsFor(t, { sub: adminId }));
  bad.algNone = forgeUnsigned({ typ: 'JWT', alg: 'none' }, claimsFor(t, { sub: adminId }), '');
  bad.unknownKey = (await mintPair(t, { sub: 'no-such-key' })).access;
  bad.unknownSession = (await mintPair(t, { sub: adminId, session: false })).access;
  bad.nodeMismatch = (await mintPair(t, { sub: adminId, nodeUrl: 'https://node-a.example' })).access;

  const revokedKey = await clientCaller(t, adminId, ['admin']);
  await updateKey(t, revokedKey.id, { revoked_at: T0 });
  bad.revokedKey = revokedKey.access;

  const expiredKey = await clientCaller(t, adminId, ['admin']);
  await updateKey(t, expiredKey.id, { expires_at: T0 });
  bad.expiredKey = expiredKey.access;

  const revokedSession = await clientCaller(t, adminId, ['admin']);
  const session = await t.svc.core.sessions.get(revokedSession.sid);
  if (!session) throw new Error('no session');
  await t.svc.core.store.batch([t.svc.core.sessions.revokeOp(revokedSession.sid, session, 'logout', T0)]);
  bad.revokedSession = revokedSession.access;
});
afterAll(() => w.t.close());

interface Outcome {
  status: number;
  /** The exact body, when pinned. */
  body?: string | ((w: AdminWorld) => string);
  allow?: string;
  /** A 200 token pair. */
  pair?: boolean;
  /** A plain-text body. */
  text?: boolean;
}

interface RouteCase {
  name: string;
  method: string;
  path: () => string;
  body?: unknown;
  /** The permissions of the client key that may call the route; null: the middleware requires nothing. */
  grant: () => string[];
  /** What the handler answers once the middleware let the caller through. */
  passed: Outcome;
  /** What a client key holding only `context:list` gets (default: 403 permission_denied). */
  withoutGrant?: Outcome;
}

const env = (data: unknown) => JSON.stringify({ data, error: null });
const err = (message: string) => JSON.stringify({ data: null, error: message });

const ROUTES: RouteCase[] = [
  {
    name: 'POST /admin/revoke',
    method: 'POST',
    path: () => '/admin/revoke',
    body: { client_id: 'no-such-key' },
    grant: () => ['keys:delete'],
    passed: { status: 404, body: err('Key not found') },
  },
  { name: 'GET /admin/keys', method: 'GET', path: () => '/admin/keys', grant: () => ['keys:list'], passed: { status: 200 } },
  {
    name: 'HEAD /admin/keys',
    method: 'HEAD',
    path: () => '/admin/keys',
    grant: () => ['keys:list'],
    passed: { status: 200, body: '' },
  },
  {
    name: 'POST /admin/keys',
    method: 'POST',
    path: () => '/admin/keys',
    body: {},
    grant: () => ['admin'],
    passed: {
      status: 422,
      text: true,
      body: 'Failed to deserialize the JSON body into the target type: missing field `public_key`',
    },
  },
  {
    name: 'DELETE /admin/keys/:key_id',
    method: 'DELETE',
    path: () => '/admin/keys/no-such-key',
    grant: () => ['keys:delete'],
    passed: { status: 200, body: env({ status: false, message: 'Cannot delete the last active root key' }) },
  },
  {
    name: 'GET /admin/keys/clients',
    method: 'GET',
    path: () => '/admin/keys/clients',
    grant: () => ['keys:clients:list'],
    passed: { status: 200 },
  },
  {
    name: 'POST /admin/client-key',
    method: 'POST',
    path: () => '/admin/client-key',
    body: {},
    grant: () => ['admin'],
    passed: { status: 200, pair: true },
    withoutGrant: { status: 403, body: err('Token does not have admin permissions') },
  },
  {
    name: 'DELETE /admin/keys/:key_id/clients/:client_id',
    method: 'DELETE',
    path: () => `/admin/keys/${w.adminId}/clients/no-such-client`,
    grant: () => ['keys:clients:delete'],
    passed: { status: 404, body: err('Client key not found') },
  },
  {
    name: 'GET /admin/keys/:key_id/permissions',
    method: 'GET',
    path: () => `/admin/keys/${target.id}/permissions`,
    grant: () => [`keys:permissions:get[${target.id}]`],
    passed: { status: 200, body: env({ permissions: ['context:list'] }) },
  },
  {
    name: 'PUT /admin/keys/:key_id/permissions',
    method: 'PUT',
    path: () => `/admin/keys/${target.id}/permissions`,
    body: {},
    grant: () => ['admin'],
    passed: { status: 200, body: env({ permissions: ['context:list'] }) },
  },
  {
    name: 'GET /admin/identity',
    method: 'GET',
    path: () => '/admin/identity',
    grant: () => [],
    passed: { status: 200 },
    withoutGrant: { status: 200 },
  },
  {
    name: 'GET /admin/metrics',
    method: 'GET',
    path: () => '/admin/metrics',
    grant: () => [],
    passed: { status: 200 },
    withoutGrant: { status: 200 },
  },
  {
    name: 'DELETE /admin/keys/clients (static route wins: middleware, then 405)',
    method: 'DELETE',
    path: () => '/admin/keys/clients',
    grant: () => ['keys:delete'],
    passed: { status: 405, body: '', allow: 'GET,HEAD' },
  },
];

async function expectOutcome(res: Response, o: Outcome): Promise<void> {
  if (o.pair) {
    await expectPair(res);
    return;
  }
  const text = await res.text();
  expect(res.status, text).toBe(o.status);
  if (o.body !== undefined) expect(text).toBe(typeof o.body === 'function' ? o.body(w) : o.body);
  if (o.text) expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  expect(res.headers.get('allow')).toBe(o.allow ?? null);
}

/** Authorization header values refused at extraction (400 invalid_request); undefined = absent. */
const MALFORMED: Array<[string, string | undefined]> = [
  ['no Authorization header', undefined],
  ['Basic scheme', 'Basic x'],
  ['lower-case bearer', 'bearer x'],
  ['Bearer alone', 'Bearer'],
  ['Bearer and a space (empty token)', 'Bearer '],
  ['Bearer and whitespace only', 'Bearer \t '],
  ['non-ASCII value', 'Bearer tökén'],
  ['Bearer without the space', 'Bearerx.y.z'],
];

/** Tokens refused by verification, key or session (`token` names an entry of `bad`). */
const REFUSED: Array<{ name: string; token: string; status: number; xae: string }> = [
  { name: 'garbage token', token: 'garbage', status: 401, xae: 'invalid_token' },
  { name: 'expired access token', token: 'expired', status: 401, xae: 'token_expired' },
  { name: 'expired refresh token used as access (expiry first)', token: 'expiredRefresh', status: 401, xae: 'token_expired' },
  { name: 'refresh token as bearer', token: 'refreshAsAccess', status: 401, xae: 'invalid_token' },
  { name: 'foreign signature', token: 'foreign', status: 401, xae: 'invalid_token' },
  { name: 'alg none', token: 'algNone', status: 401, xae: 'invalid_token' },
  { name: 'unknown key', token: 'unknownKey', status: 401, xae: 'invalid_token' },
  { name: 'expired key', token: 'expiredKey', status: 401, xae: 'invalid_token' },
  { name: 'unknown session', token: 'unknownSession', status: 401, xae: 'invalid_token' },
  { name: 'node-host mismatch', token: 'nodeMismatch', status: 401, xae: 'invalid_token' },
  { name: 'revoked key', token: 'revokedKey', status: 403, xae: 'token_revoked' },
  { name: 'revoked session', token: 'revokedSession', status: 403, xae: 'token_revoked' },
];

describe.each(ROUTES)('authorization matrix: $name', (route) => {
  const send = (o: { token?: string; headers?: Record<string, string> }) =>
    call(w.t, route.method, route.path(), { ...o, ...(route.body === undefined ? {} : { body: route.body }) });

  it.each(MALFORMED)('%s → 400 invalid_request, empty body', async (_name, value) => {
    const res = await send(value === undefined ? {} : { headers: { authorization: value } });
    await expectRejected(res, 400, 'invalid_request');
  });

  it.each(REFUSED)('$name → $status $xae, empty body', async ({ token: name, status, xae }) => {
    const token = bad[name];
    if (token === undefined) throw new Error(`no token ${name}`);
    await expectRejected(await send({ token }), status, xae);
  });

  it('a client key without the required permission', async () => {
    const caller = await clientCaller(w.t, w.adminId, ['context:list']);
    const res = await send({ token: caller.access });
    if (route.withoutGrant === undefined) {
      await expectRejected(res, 403, 'permission_denied');
      return;
    }
    expectCaller(res, caller.id, ['context:list']);
    await expectOutcome(res, route.withoutGrant);
  });

  it('a client key holding the required permission', async () => {
    const grant = route.grant();
    const caller = await clientCaller(w.t, w.adminId, grant);
    const res = await send({ token: caller.access });
    expectCaller(res, caller.id, grant);
    await expectOutcome(res, route.passed);
  });

  it('the root admin', async () => {
    const res = await send({ token: w.admin.access });
    expectCaller(res, w.adminId, ['admin']);
    await expectOutcome(res, route.passed);
  });
});

describe('the middleware runs before the 405 (wire §1.2)', () => {
  const WRONG: Array<[string, string, string]> = [
    ['GET', '/admin/revoke', 'POST'],
    ['PUT', '/admin/revoke', 'POST'],
    ['PUT', '/admin/keys', 'GET,HEAD,POST'],
    ['DELETE', '/admin/keys', 'GET,HEAD,POST'],
    ['POST', '/admin/keys/clients', 'GET,HEAD'],
    ['PUT', '/admin/keys/clients', 'GET,HEAD'],
    ['GET', '/admin/keys/some-id', 'DELETE'],
    ['POST', '/admin/keys/some-id', 'DELETE'],
    ['GET', '/admin/client-key', 'POST'],
    ['GET', '/admin/keys/some-id/clients/cid', 'DELETE'],
    ['POST', '/admin/keys/some-id/permissions', 'GET,HEAD,PUT'],
    ['DELETE', '/admin/keys/some-id/permissions', 'GET,HEAD,PUT'],
    ['POST', '/admin/identity', 'GET,HEAD'],
    ['DELETE', '/admin/metrics', 'GET,HEAD'],
    ['PATCH', '/admin/metrics', 'GET,HEAD'],
    ['OPTIONS', '/admin/identity', 'GET,HEAD'],
    ['HEAD', '/admin/revoke', 'POST'],
    ['HEAD', '/admin/keys/some-id', 'DELETE'],
  ];

  it.each(WRONG)('%s %s as admin → 405, Allow: %s, caller headers', async (method, path, allow) => {
    const res = await call(w.t, method, path, { token: w.admin.access });
    expect(res.headers.get('allow')).toBe(allow);
    expectCaller(res, w.adminId, ['admin']);
    await expectEmpty(res, 405);
  });

  it.each(WRONG)("%s %s without a token → the middleware's 400, no Allow", async (method, path) => {
    const res = await call(w.t, method, path);
    expect(res.headers.get('allow')).toBeNull();
    await expectRejected(res, 400, 'invalid_request');
  });

  it('a wrong method is authorised with the table first: GET /admin/revoke needs nothing, DELETE /admin/keys/clients needs keys:delete', async () => {
    const caller = await clientCaller(w.t, w.adminId, ['context:list']);
    const get = await call(w.t, 'GET', '/admin/revoke', { token: caller.access });
    expect(get.status).toBe(405);
    expectCaller(get, caller.id, ['context:list']);
    await expectRejected(await call(w.t, 'DELETE', '/admin/keys/clients', { token: caller.access }), 403, 'permission_denied');
  });

  it('an OPTIONS preflight is answered before authentication', async () => {
    const res = await call(w.t, 'OPTIONS', '/admin/keys', {
      headers: { origin: 'http://app.example', 'access-control-request-method': 'GET' },
    });
    expect(res.status >= 200 && res.status < 300).toBe(true);
    expect(res.headers.get('x-auth-error')).toBeNull();
  });
});

describe('HEAD on every GET route: same status and headers, no body', () => {
  const GETS = ['/admin/keys', '/admin/keys/clients', '/admin/identity', '/admin/metrics'];
  it.each(GETS)('HEAD %s', async (path) => {
    const get = await call(w.t, 'GET', path, { token: w.admin.access });
    const head = await call(w.t, 'HEAD', path, { token: w.admin.access });
    expect(head.status).toBe(get.status);
    expect(await head.text()).toBe('');
    for (const h of ['content-type', 'x-auth-user', 'x-auth-permissions']) expect(head.headers.get(h)).toBe(get.headers.get(h));
  });

  it('HEAD /admin/keys/:id/permissions keeps a handler error status', async () => {
    const res = await call(w.t, 'HEAD', '/admin/keys/no-such-key/permissions', { token: w.admin.access });
    expect(res.status).toBe(404);
    expectCaller(res, w.adminId, ['admin']);
    expect(await res.text()).toBe('');
  });

  it('a failed HEAD keeps its X-Auth-Error', async () => {
    const res = await call(w.t, 'HEAD', '/admin/keys', { token: bad.expired as string });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-auth-error')).toBe('token_expired');
  });
});

describe('paths that name no /admin route: plain 404, the middleware does not run', () => {
  const PATHS = [
    '/admin',
    '/admin/',
    '/admin/keys/',
    '/admin/unknown',
    '/admin/keys/a/b',
    '/admin/keys/a/clients',
    '/admin/keys/a/clients/',
    '/admin/keys/a/permissions/',
    '/admin/keys//permissions',
    '/Admin/keys',
    '/admin/Keys',
    '/admin/identity/x',
    '/admin/public',
  ];
  it.each(PATHS)('GET %s, no token → empty 404', async (path) => {
    const res = await call(w.t, 'GET', path);
    expect(res.headers.get('x-auth-error')).toBeNull();
    await expectEmpty(res, 404);
  });
  it.each(PATHS)('DELETE %s with a bad token → empty 404, no X-Auth-Error', async (path) => {
    const res = await call(w.t, 'DELETE', path, { headers: { authorization: 'Basic x' } });
    expect(res.headers.get('x-auth-error')).toBeNull();
    expect(res.headers.get('x-auth-user')).toBeNull();
    await expectEmpty(res, 404);
  });

  it('no public exemption: /admin/keys/public is a key id like any other (permissions.md §11 line 73)', async () => {
    await expectRejected(await call(w.t, 'DELETE', '/admin/keys/public'), 400, 'invalid_request');
    const caller = await clientCaller(w.t, w.adminId, ['context:list']);
    await expectRejected(await call(w.t, 'DELETE', '/admin/keys/public', { token: caller.access }), 403, 'permission_denied');
  });
});

describe('caller headers (wire §2.3)', () => {
  it('carry the effective permissions, not the claim: a permission removed from the key disappears at once', async () => {
    const caller = await clientCaller(w.t, w.adminId, ['context:list', 'keys:list', 'context:execute']);
    await updateKey(w.t, caller.id, { permissions: ['context:list', 'context:execute'] });
    const res = await call(w.t, 'GET', '/admin/identity', { token: caller.access });
    expectCaller(res, caller.id, ['context:list', 'context:execute']);
    await expectRejected(await call(w.t, 'GET', '/admin/keys', { token: caller.access }), 403, 'permission_denied');
  });

  it('a permission added to the key after minting is not granted until a new token', async () => {
    const caller = await clientCaller(w.t, w.adminId, ['context:list']);
    await updateKey(w.t, caller.id, { permissions: ['context:list', 'keys:list'] });
    await expectRejected(await call(w.t, 'GET', '/admin/keys', { token: caller.access }), 403, 'permission_denied');
  });

  it('empty effective permissions → no X-Auth-Permissions header', async () => {
    const caller = await clientCaller(w.t, w.adminId, []);
    const res = await call(w.t, 'GET', '/admin/metrics', { token: caller.access });
    expect(res.status).toBe(200);
    expectCaller(res, caller.id, []);
  });

  it('a permission that is not a valid header value drops the whole X-Auth-Permissions header', async () => {
    const caller = await clientCaller(w.t, w.adminId, ['context[ctx-é,pk]', 'context:list']);
    const res = await call(w.t, 'GET', '/admin/identity', { token: caller.access });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-auth-user')).toBe(caller.id);
    expect(res.headers.get('x-auth-permissions')).toBeNull();
  });

  it('handler errors carry them too (extraction failure)', async () => {
    const res = await call(w.t, 'POST', '/admin/revoke', { token: w.admin.access, body: '{' });
    expect(res.status).toBe(400);
    expectCaller(res, w.adminId, ['admin']);
  });

  it('a plain-text extraction error of POST /admin/keys carries them', async () => {
    const res = await call(w.t, 'POST', '/admin/keys', {
      token: w.admin.access,
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expectCaller(res, w.adminId, ['admin']);
    await expectText(res, 415, 'Expected request with `Content-Type: application/json`');
  });
});

describe('Security: path confusion (permissions.md §12: the table sees the raw path)', () => {
  it('a percent-encoded static segment does not reach the route it decodes to (routing is on the raw path)', async () => {
    const caller = await clientCaller(w.t, w.adminId, ['context:list']);
    for (const path of ['/admin/%6Beys', '/%61dmin/keys', '/admin/identit%79', '/auth/%74oken']) {
      const res = await call(w.t, 'GET', path, { token: caller.access });
      expect(res.headers.get('x-auth-user'), path).toBeNull();
      await expectEmpty(res, 404);
    }
    // `client%73` is a key id as far as router and table agree: the listing is never reached.
    for (const path of ['/admin/keys/client%73', '/admin/keys/%63lients']) {
      const res = await call(w.t, 'GET', path, { token: w.admin.access });
      expect(res.status, path).toBe(405);
      expect(res.headers.get('allow'), path).toBe('DELETE');
      const del = await call(w.t, 'DELETE', path, { token: w.admin.access });
      const body = JSON.parse(await del.text()) as { data: unknown; error: unknown };
      // Whatever DELETE /admin/keys/:key_id answers here, it is never a client listing.
      expect(Array.isArray(body.data), path).toBe(false);
      expect([200, 404], path).toContain(del.status);
    }
  });

  it('encoded slashes and backslashes in a parameter are refused, not decoded into another path', async () => {
    for (const path of [
      `/admin/keys/${w.adminId}%2Fclients%2Fx`,
      '/admin/keys/a%2fb/permissions',
      '/admin/keys/a%5Cb/permissions',
    ]) {
      const res = await call(w.t, 'GET', path, { token: w.admin.access });
      await expectEmpty(res, 404);
    }
    const del = await call(w.t, 'DELETE', `/admin/keys/${w.adminId}%2Fclients%2Fx`, { token: w.admin.access });
    await expectEmpty(del, 404);
  });

  it('the scoped permission matches the raw segment, the handler reads the decoded one', async () => {
    const encoded = `%${target.id.charCodeAt(0).toString(16)}${target.id.slice(1)}`;
    const path = `/admin/keys/${encoded}/permissions`;
    // The decoded id is not what the table sees: a grant for the decoded id does not cover it.
    const scoped = await clientCaller(w.t, w.adminId, [`keys:permissions:get[${target.id}]`]);
    await expectRejected(await call(w.t, 'GET', path, { token: scoped.access }), 403, 'permission_denied');
    // An admin reaches the handler, which sees the decoded id.
    const res = await call(w.t, 'GET', path, { token: w.admin.access });
    expectCaller(res, w.adminId, ['admin']);
    await expectData(res, { permissions: ['context:list'] });
  });

  it('the query string is not part of the path', async () => {
    const caller = await clientCaller(w.t, w.adminId, ['keys:list']);
    const res = await call(w.t, 'GET', '/admin/keys?x=/admin/identity', { token: caller.access });
    expect(res.status).toBe(200);
    await expectRejected(await call(w.t, 'GET', '/admin/keys/clients?x=1', { token: caller.access }), 403, 'permission_denied');
  });

  it('the token comes from Authorization only, never from the query', async () => {
    const res = await call(w.t, 'GET', `/admin/identity?token=${w.admin.access}`);
    await expectRejected(res, 400, 'invalid_request');
  });
});

describe('Security: credential smuggling in the Authorization header', () => {
  it('every leading "Bearer " is stripped: Bearer Bearer <token> authenticates', async () => {
    const res = await call(w.t, 'GET', '/admin/identity', { headers: { authorization: `Bearer Bearer ${w.admin.access}` } });
    expect(res.status).toBe(200);
    expectCaller(res, w.adminId, ['admin']);
  });

  it('a valid token behind another scheme is refused', async () => {
    for (const value of [
      `Basic ${w.admin.access}`,
      `bearer ${w.admin.access}`,
      `Token ${w.admin.access}`,
      ` Bearer${w.admin.access}`,
    ]) {
      await expectRejected(
        await call(w.t, 'GET', '/admin/identity', { headers: { authorization: value } }),
        400,
        'invalid_request',
      );
    }
  });

  it('two Authorization headers are joined and refused as a malformed token', async () => {
    const headers = new Headers({ host: 'localhost:3001' });
    headers.append('authorization', `Bearer ${w.admin.access}`);
    headers.append('authorization', `Bearer ${w.admin.access}`);
    const res = await w.t.request('/admin/identity', { headers });
    await expectRejected(res, 401, 'invalid_token');
  });
});

describe('bearer check steps 1–2 (wire §4.5), unit level', () => {
  const refused = (value: string | undefined): string => {
    try {
      bearerToken(value);
    } catch (e) {
      expect(e).toBeInstanceOf(AuthError);
      expect((e as AuthError).code).toBe('invalid_request');
      return (e as AuthError).message;
    }
    throw new Error('accepted');
  };

  it.each([
    [undefined, 'Missing Authorization header'],
    ['Basic x', "Invalid Authorization header format. Expected 'Bearer <token>'"],
    ['bearer x', "Invalid Authorization header format. Expected 'Bearer <token>'"],
    ['Bearer', "Invalid Authorization header format. Expected 'Bearer <token>'"],
  ])('%j → %s', (value, message) => {
    expect(refused(value)).toBe(message);
  });

  it('a non-visible-ASCII value → Invalid Authorization header: …', () => {
    expect(refused('Bearer tökén').startsWith('Invalid Authorization header: ')).toBe(true);
    expect(refused('Bearer a\u0001b').startsWith('Invalid Authorization header: ')).toBe(true);
  });

  it.each([
    ['Bearer abc', 'abc'],
    ['Bearer Bearer abc', 'abc'],
    ['Bearer   abc  ', 'abc'],
    ['Bearer \tabc', 'abc'],
    ['Bearer ', ''],
    ['Bearer Bearer ', ''],
  ])('%j → token %j', (value, token) => {
    expect(bearerToken(value)).toBe(token);
  });

  it('an empty token → Empty token provided', async () => {
    await expect(checkBearerToken(w.t.svc.core, '', {})).rejects.toMatchObject({
      code: 'invalid_request',
      message: 'Empty token provided',
    });
  });

  it('expiry is reported as token_expired, a node mismatch as invalid_token (not invalid_node)', async () => {
    await expect(checkBearerToken(w.t.svc.core, bad.expired as string, {})).rejects.toMatchObject({ code: 'token_expired' });
    await expect(checkBearerToken(w.t.svc.core, bad.nodeMismatch as string, { host: 'node-b.example' })).rejects.toMatchObject({
      code: 'invalid_token',
    });
    await expect(checkBearerToken(w.t.svc.core, bad.expiredKey as string, {})).rejects.toMatchObject({
      code: 'invalid_token',
      message: 'Key expired',
    });
  });

  it('a valid token → the caller with its effective permissions', async () => {
    const caller = await checkBearerToken(w.t.svc.core, w.admin.access, { host: 'localhost' });
    expect({ keyId: caller.keyId, permissions: caller.permissions }).toEqual({ keyId: w.adminId, permissions: ['admin'] });
  });
});
