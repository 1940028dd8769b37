import pino from 'pino';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Core } from '../../src/core.js';
import { shortId } from '../../src/util/logger.js';
import { addUser, mintPair } from '../helpers/http.js';
import { testServices, type TestService } from '../helpers/service.js';

/** HTTP-layer defects of issue 10 item 6 that app.request() shows (the socket-level ones: socket-defects.test.ts). */

const service = testServices();

interface Line {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** Every line the service logs from now on, parsed (the logger is read at call time). */
function captureLog(t: TestService): { lines: Line[]; raw: string[] } {
  const lines: Line[] = [];
  const raw: string[] = [];
  (t.svc.core as { log: Core['log'] }).log = pino(
    { level: 'debug' },
    {
      write: (l: string) => {
        raw.push(l);
        lines.push(JSON.parse(l) as Line);
      },
    },
  );
  return { lines, raw };
}

describe('Security: a huge Content-Length is a 413 whatever the method (§2.7)', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await service({}, { admin: false });
  });

  it.each(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'POST'])(
    '%s /auth/validate with Content-Length: 10^12 → 413 before routing and authentication',
    async (method) => {
      const res = await t.request('/auth/validate', { method, headers: { 'content-length': '1000000000000' } });
      expect(res.status).toBe(413);
      expect(res.headers.get('connection')).toBe('close');
      expect(res.headers.get('x-auth-error')).toBeNull();
      expect(await res.text()).toBe(method === 'HEAD' ? '' : 'length limit exceeded');
    },
  );

  it('a GET with a Content-Length within the limit is routed as usual', async () => {
    const res = await t.request('/auth/health', { headers: { 'content-length': '10' } });
    expect(res.status).toBe(200);
  });
});

describe('Security: responses that carry tokens are never stored by a cache (Cache-Control: no-store)', () => {
  const MOCK_HEADER = 'Bearer mock-secret';
  let t: TestService;
  beforeAll(async () => {
    t = await service({ development: { enable_mock_auth: true, mock_auth_header_value: MOCK_HEADER } });
  });
  const noStore = (res: Response) => ({
    status: res.status,
    cacheControl: res.headers.get('cache-control'),
    pragma: res.headers.get('pragma'),
  });

  it('POST /auth/token: the 200 and its errors', async () => {
    const { res } = await t.login();
    expect(noStore(res)).toEqual({ status: 200, cacheControl: 'no-store', pragma: 'no-cache' });
    expect(noStore((await t.login({ password: 'wrong password!' })).res)).toEqual({
      status: 401,
      cacheControl: 'no-store',
      pragma: 'no-cache',
    });
    expect(noStore(await t.post('/auth/token', 'not json'))).toEqual({
      status: 400,
      cacheControl: 'no-store',
      pragma: 'no-cache',
    });
  });

  it('POST /auth/refresh: the 200 and its errors', async () => {
    const { access, refresh } = await t.login();
    const early = await t.post('/auth/refresh', { access_token: access, refresh_token: refresh }, { host: 'localhost' });
    expect(noStore(early)).toEqual({ status: 401, cacheControl: 'no-store', pragma: 'no-cache' });
    t.clock.advanceSeconds(t.svc.config.jwt.access_token_expiry + t.svc.config.jwt.leeway_seconds + 1);
    const res = await t.post('/auth/refresh', { access_token: access, refresh_token: refresh }, { host: 'localhost' });
    expect(noStore(res)).toEqual({ status: 200, cacheControl: 'no-store', pragma: 'no-cache' });
  });

  it('POST /auth/mock-token: the 200 and its errors', async () => {
    const res = await t.post('/auth/mock-token', { client_name: 'no-store-test' }, { authorization: MOCK_HEADER });
    expect(noStore(res)).toEqual({ status: 200, cacheControl: 'no-store', pragma: 'no-cache' });
    expect(res.headers.get('x-mock-token')).toBe('true');
    const refused = await t.post('/auth/mock-token', { client_name: 'no-store-test' }, { authorization: 'Bearer other' });
    expect(noStore(refused)).toEqual({ status: 401, cacheControl: 'no-store', pragma: 'no-cache' });
  });

  it('POST /admin/client-key: the 200 and its errors', async () => {
    const { access } = await t.login();
    const res = await t.post('/admin/client-key', {}, { authorization: `Bearer ${access}`, host: 'localhost' });
    expect(noStore(res)).toEqual({ status: 200, cacheControl: 'no-store', pragma: 'no-cache' });
    // No bearer: the /admin middleware's bodyless 400 (wire §5.1).
    expect(noStore(await t.post('/admin/client-key', {}))).toEqual({ status: 400, cacheControl: 'no-store', pragma: 'no-cache' });
  });

  it('routes that carry no token keep their own caching headers (the control case)', async () => {
    const res = await t.request('/auth/health');
    expect(res.headers.get('cache-control')).toBeNull();
    expect(res.headers.get('pragma')).toBeNull();
  });
});

describe('Security: 403 authorisation refusals are logged (who, what, which permission; never a token)', () => {
  let t: TestService;
  let log: { lines: Line[]; raw: string[] };
  let operatorId: string;
  let operator: { access: string; refresh: string };
  beforeAll(async () => {
    t = await service();
    operatorId = await addUser(t, 'operator', 'operator-password', { permissions: ['context:list'] });
    operator = await mintPair(t, { sub: operatorId, permissions: ['context:list'] });
  });
  beforeEach(() => {
    log = captureLog(t);
  });
  const refusals = () => log.lines.filter((l) => l.msg === 'authorisation refused');
  const noToken = () => {
    for (const part of [operator.access, ...operator.access.split('.')]) {
      expect(log.raw.join('')).not.toContain(part);
    }
  };

  it('the /admin middleware (permission_denied): warn, key prefix, method, raw path, the missing permission', async () => {
    const res = await t.request('/admin/keys/some-key', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${operator.access}` },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-auth-error')).toBe('permission_denied');
    expect(refusals()).toEqual([
      expect.objectContaining({
        level: 40,
        status: 403,
        key: shortId(operatorId),
        method: 'DELETE',
        path: '/admin/keys/some-key',
        missing: ['keys:delete'],
      }),
    ]);
    noToken();
  });

  it('an /admin handler (403 forbidden): warn, key prefix, method, path and the refusal', async () => {
    const res = await t.post('/admin/client-key', {}, { authorization: `Bearer ${operator.access}` });
    expect(res.status).toBe(403);
    expect(refusals()).toEqual([
      expect.objectContaining({
        level: 40,
        key: shortId(operatorId),
        method: 'POST',
        path: '/admin/client-key',
        reason: 'Token does not have admin permissions',
      }),
    ]);
    noToken();
  });

  it('forward auth (permission_denied on /auth/validate): info, the forwarded route without its query, what it requires', async () => {
    const res = await t.request('/auth/validate', {
      headers: {
        authorization: `Bearer ${operator.access}`,
        'x-forwarded-method': 'POST',
        'x-forwarded-uri': `/admin-api/namespaces?token=${operator.access}`,
      },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-auth-error')).toBe('permission_denied');
    const [line] = refusals();
    expect(refusals()).toHaveLength(1);
    expect(line).toMatchObject({
      level: 30,
      key: shortId(operatorId),
      method: 'GET',
      path: '/auth/validate',
      forwarded_method: 'POST',
      forwarded_path: '/admin-api/namespaces',
    });
    expect((line?.required as string[] | undefined)?.length).toBeGreaterThan(0);
    noToken();
  });

  it('a long path is capped in the line, as every logged request value', async () => {
    const id = 'k'.repeat(400);
    const res = await t.request(`/admin/keys/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${operator.access}` },
    });
    expect(res.status).toBe(403);
    const [line] = refusals();
    expect(line?.path).toBe(`${`/admin/keys/${id}`.slice(0, 256)}…`);
  });

  it('other answers are not logged as refusals: a 401, an allowed call', async () => {
    expect((await t.request('/admin/keys', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const { access } = await mintPair(t);
    expect((await t.request('/admin/keys', { headers: { authorization: `Bearer ${access}` } })).status).toBe(200);
    expect(refusals()).toEqual([]);
  });
});
