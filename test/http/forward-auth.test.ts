import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addClientKey, addUser, expectErr, mintPair, updateKey } from '../helpers/http.js';
import { makeTestService, type TestService } from '../helpers/service.js';

/**
 * Forward auth with authorisation (wire §3.4 row 6, design §4.4): when the proxy forwards
 * X-Forwarded-Method and X-Forwarded-Uri, /auth/validate applies the route table to them.
 * [differs from Rust]: Rust admits any valid token to every proxied node route.
 */
let t: TestService;
let rootId: string;
beforeAll(async () => {
  t = await makeTestService();
  rootId = await addUser(t, 'operator', 'operator-password');
});
afterAll(() => t.close());

function forwarded(token: string, method: string | undefined, uri: string | undefined, s = t): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, host: 'auth:3001' };
  if (method !== undefined) headers['x-forwarded-method'] = method;
  if (uri !== undefined) headers['x-forwarded-uri'] = uri;
  return s.request('/auth/validate', { headers });
}

async function tokenWith(permissions: string[]): Promise<string> {
  const clientId = await addClientKey(t, rootId, permissions);
  return (await mintPair(t, { sub: clientId, permissions })).access;
}

describe('Forward auth: the auth seam (issue acceptance)', () => {
  let scoped: string;
  let appScoped: string;
  beforeAll(async () => {
    scoped = await tokenWith(['context:create', 'context:list', 'context:execute']);
    appScoped = await tokenWith(['context:list[app-1]', 'context:create[app-1]', 'context:execute[app-1]']);
  });

  it.each([
    ['GET', '/admin-api/contexts', 200],
    ['POST', '/jsonrpc', 200],
    ['POST', '/admin-api/namespaces', 403],
  ])('a context-scoped client key: forwarded %s %s → %i', async (method, uri, status) => {
    const res = await forwarded(scoped, method, uri);
    if (status === 200) expect(res.status).toBe(200);
    else await expectErr(res, 403, 'Permission denied', 'permission_denied');
  });

  it('a token scoped to one application id is refused the global context listing', async () => {
    await expectErr(await forwarded(appScoped, 'GET', '/admin-api/contexts'), 403, 'Permission denied', 'permission_denied');
  });

  it('without the forwarded headers the same tokens pass: the session probe only authenticates', async () => {
    for (const token of [scoped, appScoped]) {
      expect((await forwarded(token, undefined, undefined)).status).toBe(200);
      // One header alone is not enough to enforce.
      expect((await forwarded(token, 'POST', undefined)).status).toBe(200);
    }
  });

  it('HEAD answers the same decision with no body', async () => {
    const res = await t.request('/auth/validate', {
      method: 'HEAD',
      headers: { authorization: `Bearer ${scoped}`, 'x-forwarded-method': 'POST', 'x-forwarded-uri': '/admin-api/namespaces' },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-auth-error')).toBe('permission_denied');
    expect(await res.text()).toBe('');
  });
});

describe('Forward auth: what the decision is made on', () => {
  it('the effective permissions: a permission removed from the key stops working at once', async () => {
    const clientId = await addClientKey(t, rootId, ['context:list']);
    const { access } = await mintPair(t, { sub: clientId, permissions: ['context:list'] });
    expect((await forwarded(access, 'GET', '/admin-api/contexts')).status).toBe(200);
    await updateKey(t, clientId, { permissions: ['context:create'] });
    await expectErr(await forwarded(access, 'GET', '/admin-api/contexts'), 403, 'Permission denied', 'permission_denied');
  });

  it('the path before "?" of X-Forwarded-Uri; the query (a WebSocket token) does not change it', async () => {
    const token = await tokenWith(['context:list']);
    expect((await forwarded(token, 'GET', `/admin-api/contexts?token=${token}`)).status).toBe(200);
  });

  it('unknown /admin-api routes require admin (default deny); /ws, /sse and /auth/* require nothing', async () => {
    const token = await tokenWith(['context:list']);
    await expectErr(await forwarded(token, 'GET', '/admin-api/not-a-route'), 403, 'Permission denied', 'permission_denied');
    for (const uri of ['/ws', '/sse', '/auth/login']) expect((await forwarded(token, 'GET', uri)).status).toBe(200);
  });

  it('the root admin passes every route', async () => {
    const { access } = await mintPair(t);
    for (const [method, uri] of [
      ['POST', '/admin-api/namespaces'],
      ['DELETE', '/admin-api/contexts/abc'],
      ['GET', '/admin-api/not-a-route'],
    ] as const) {
      expect((await forwarded(access, method, uri)).status).toBe(200);
    }
  });
});

describe('Security: forwarded-route tricks (fail closed)', () => {
  let token: string;
  beforeAll(async () => {
    token = await tokenWith(['context:list']);
  });

  it.each([
    ['no leading slash', 'admin-api/contexts'],
    ['an absolute URL', 'http://node/admin-api/contexts'],
    ['an empty path', ''],
    ['a doubled slash that a node would collapse into /admin-api/…', '//admin-api/namespaces'],
    ['a dot segment', '/ws/../admin-api/namespaces'],
    ['an encoded dot segment', '/ws/%2e%2e/admin-api/namespaces'],
    ['an encoded slash', '/ws%2f..%2fadmin-api/namespaces'],
    ['a backslash', '/ws\\\\..\\\\admin-api/namespaces'],
  ])('%s → 403 permission_denied', async (_label, uri) => {
    await expectErr(await forwarded(token, 'POST', uri), 403, 'Permission denied', 'permission_denied');
  });

  it('an unrecognised or lower-case method spelling is ANY, which every mapped route still guards', async () => {
    await expectErr(await forwarded(token, 'post', '/admin-api/namespaces'), 403, 'Permission denied', 'permission_denied');
    await expectErr(await forwarded(token, 'PROPFIND', '/admin-api/namespaces'), 403, 'Permission denied', 'permission_denied');
  });
});

describe('forward_auth.enforce_permissions = false', () => {
  it('only authenticates, as the Rust service does', async () => {
    const s = await makeTestService({ forward_auth: { enforce_permissions: false } });
    try {
      const id = await addUser(s, 'op', 'op-password-1');
      const clientId = await addClientKey(s, id, ['context:list']);
      const { access } = await mintPair(s, { sub: clientId, permissions: ['context:list'] });
      expect((await forwarded(access, 'POST', '/admin-api/namespaces', s)).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});
