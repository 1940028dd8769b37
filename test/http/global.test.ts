/**
 * Global conventions: routing (§1.2), CORS (§2.6), security headers (§2.5), body limit (§2.7),
 * uncaught errors (§2.1) and the order of handling (§2.8).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  chunkedInit,
  DEFAULT_CSP,
  expectEmpty,
  expectErr,
  expectPair,
  expectPermissiveCors,
  expectSecurityHeaders,
  EXPOSED,
  freshPeer,
  loginBody,
  PAGE_CSP,
  SECURITY_HEADERS,
  sizedInit,
  TWO_MIB,
  VARY,
} from '../helpers/http.js';
import { testServices, type TestService } from '../helpers/service.js';

const service = testServices();

let t: TestService;
let access: string;
beforeAll(async () => {
  t = await service();
  ({ access } = await t.login());
});

const GET_ROUTES = [
  '/auth/login',
  '/auth/assets/app.js',
  '/auth/favicon.ico',
  '/auth/callback',
  '/auth/providers',
  '/auth/jwks.json',
  '/auth/openapi.json',
  '/auth/health',
  '/auth/ready',
];
const POST_ROUTES = ['/auth/token', '/auth/refresh', '/auth/logout'];

describe('Routing: unknown paths → 404, empty body (§1.2)', () => {
  it.each([
    '/',
    '/auth',
    '/auth/',
    '/auth/challenge',
    '/auth/identity',
    '/auth/is-authed',
    '/metrics',
    '/auth/calimero-icon.svg',
    '/auth/mockServiceWorker.js',
    '/auth/token/',
    '/Auth/token',
    '/AUTH/TOKEN',
    '//auth/token',
    '/auth//token',
    '/auth/validate/',
    '/auth/health/',
    '/auth/Health',
    '/auth/health/x',
    '/auth/login/',
    '/auth/assets',
    '/auth/assets/',
    '/auth/tokens',
    '/auth/token.json',
    '/auth/token%2F',
    '/favicon.ico',
    '/auth/mock-token',
    '/admin-api/contexts',
    '/jsonrpc',
    '/ws',
  ])('%s', async (path) => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await t.request(path, { method });
      await expectEmpty(res, 404);
      expectPermissiveCors(res);
      expectSecurityHeaders(res);
      expect(res.headers.get('allow')).toBeNull();
      expect(res.headers.get('x-auth-error')).toBeNull();
    }
  });

  it('a non-preflight OPTIONS on an unknown path → 404', async () => {
    await expectEmpty(await t.request('/nope', { method: 'OPTIONS' }), 404);
  });
});

describe('Routing: wrong method → 405 with Allow (§1.2)', () => {
  const rows: Array<[string, string, string[]]> = [
    ...GET_ROUTES.map((p): [string, string, string[]] => [p, 'GET,HEAD', ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']]),
    ...POST_ROUTES.map((p): [string, string, string[]] => [p, 'POST', ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']]),
    ['/auth/validate', 'GET,HEAD,POST', ['PUT', 'DELETE', 'PATCH', 'OPTIONS']],
  ];
  it.each(rows)('%s → Allow: %s', async (path, allow, methods) => {
    for (const method of methods) {
      const res = await t.request(path, { method, headers: bearer(access) });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect(await res.text()).toBe('');
      expect(res.headers.get('content-type')).toBeNull();
      expect(res.headers.get('x-auth-error')).toBeNull();
      expectPermissiveCors(res);
      expectSecurityHeaders(
        res,
        path.startsWith('/auth/login') || path.startsWith('/auth/assets') || path === '/auth/favicon.ico'
          ? PAGE_CSP
          : DEFAULT_CSP,
      );
    }
  });

  it('an extension method on a known path → 405', async () => {
    const res = await t.request('/auth/health', { method: 'PROPFIND' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET,HEAD');
  });

  it('the 405 is decided before the body is read (malformed JSON on GET-only and POST-only paths)', async () => {
    const res = await t.request('/auth/health', { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(405);
    const put = await t.request('/auth/token', { method: 'PUT', body: '{', headers: { 'content-type': 'application/json' } });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('POST');
  });
});

describe('Routing: HEAD on every GET route (§1.2)', () => {
  it.each([...GET_ROUTES, '/auth/validate', '/auth/callback?callback-url=https%3A%2F%2Fa.example%2F'])('%s', async (path) => {
    for (const headers of [{}, bearer(access)]) {
      const get = await t.request(path, { headers });
      const head = await t.request(path, { method: 'HEAD', headers });
      expect(head.status).toBe(get.status);
      expect([...head.headers]).toEqual([...get.headers]);
      expect(await head.text()).toBe('');
    }
  });
});

describe('CORS, permissive mode (default, §2.6)', () => {
  it('actual responses: Allow-Origin *, Expose-Headers *, Vary, on success and on errors', async () => {
    const cases = [
      await t.request('/auth/health', { headers: { origin: 'https://app.example' } }),
      await t.request('/auth/validate', { headers: { origin: 'https://app.example' } }),
      await t.post('/auth/token', '{', { origin: 'https://app.example' }),
      await t.request('/nope'),
    ];
    for (const res of cases) {
      expectPermissiveCors(res);
      expect(res.headers.get('access-control-max-age')).toBeNull();
    }
  });

  it.each([
    ['a known GET path', '/auth/health'],
    ['a POST-only path', '/auth/token'],
    ['an unknown path', '/nope'],
    ['the mock route while disabled', '/auth/mock-token'],
  ])('preflight on %s → 2xx before routing, echoing the requested headers', async (_name, path) => {
    const res = await t.request(path, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, x-custom',
      },
    });
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(300);
    expect(await res.text()).toBe('');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toBe('authorization,content-type,x-custom');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('access-control-max-age')).toBeNull();
    expect(res.headers.get('vary')).toBe(VARY);
    expect(res.headers.get('allow')).toBeNull();
    expectSecurityHeaders(res);
  });

  it('preflight without Access-Control-Request-Headers → Allow-Headers *', async () => {
    const res = await t.request('/auth/validate', { method: 'OPTIONS', headers: { 'access-control-request-method': 'GET' } });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-headers')).toBe('*');
    expect(res.headers.get('vary')).toBe(VARY);
  });

  it('preflight runs before authentication and the body limit', async () => {
    const res = await t.request('/auth/token', {
      ...sizedInit(TWO_MIB, { authorization: 'Bearer garbage', 'access-control-request-method': 'POST' }),
      method: 'OPTIONS',
    });
    expect(res.status).toBeLessThan(300);
    expect(await res.text()).toBe('');
  });

  it('OPTIONS without Access-Control-Request-Method is routed: 405 on known paths', async () => {
    for (const path of ['/auth/token', '/auth/validate', '/auth/health']) {
      const res = await t.request(path, { method: 'OPTIONS', headers: { origin: 'https://app.example' } });
      expect(res.status).toBe(405);
      expect(res.headers.get('access-control-allow-methods')).toBeNull();
    }
  });
});

describe('CORS, explicit-origin mode (§2.6)', () => {
  let e: TestService;
  const ORIGINS = ['https://a.example', 'https://b.example:8443', 'http://localhost:5173'];
  beforeAll(async () => {
    e = await service({
      cors: {
        allow_all_origins: false,
        allowed_origins: ORIGINS,
        allowed_methods: ['GET', 'POST', 'OPTIONS'],
        allowed_headers: ['Authorization', 'Content-Type', 'X-Custom-Header'],
      },
    });
  });
  const preflight = (origin: string | undefined, s = e) =>
    s.request('/auth/validate', {
      method: 'OPTIONS',
      headers: {
        ...(origin === undefined ? {} : { origin }),
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });

  it.each(ORIGINS)('every listed origin is honoured on preflights and actual responses: %s', async (origin) => {
    const pre = await preflight(origin);
    expect(pre.status).toBeLessThan(300);
    expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET,POST,OPTIONS');
    expect(pre.headers.get('access-control-allow-headers')).toBe('authorization,content-type,x-custom-header');
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    expect(pre.headers.get('access-control-max-age')).toBeNull();
    expect(pre.headers.get('vary')).toBe(VARY);
    expectSecurityHeaders(pre);
    const res = await e.request('/auth/validate', { headers: { origin } });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(res.headers.get('access-control-expose-headers')).toBe(EXPOSED);
    expect(res.headers.get('vary')).toBe(VARY);
  });

  it.each(['https://c.example', 'https://a.example/', 'HTTPS://A.EXAMPLE', 'https://a.example:443', 'https://b.example', 'null'])(
    'an unlisted origin %s gets no Allow-Origin',
    async (origin) => {
      const pre = await preflight(origin);
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      expect(pre.headers.get('vary')).toBe(VARY);
      const res = await e.request('/auth/health', { headers: { origin } });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-expose-headers')).toBe(EXPOSED);
    },
  );

  it('Expose-Headers is on every actual response, errors included (401, 403, 404, 405, 413, 400)', async () => {
    const origin = 'https://a.example';
    const { access: a } = await e.login();
    const cases = [
      await e.request('/auth/validate', { headers: { origin } }),
      await e.request('/auth/validate', { headers: { origin, authorization: `Bearer ${a}` } }), // no host → 403
      await e.request('/nope', { headers: { origin } }),
      await e.request('/auth/token', { headers: { origin } }),
      await e.request('/auth/token', sizedInit(TWO_MIB, { origin })),
      await e.post('/auth/token', '{', { origin }),
      await e.request('/auth/validate', { headers: { origin, authorization: `Bearer ${a}`, host: 'localhost' } }),
    ];
    expect(cases.map((r) => r.status)).toEqual([401, 403, 404, 405, 413, 400, 200]);
    for (const res of cases) {
      expect(res.headers.get('access-control-expose-headers')).toBe(EXPOSED);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('vary')).toBe(VARY);
    }
  });

  it('without configured lists: the default methods and headers (lower-cased)', async () => {
    const d = await service({ cors: { allow_all_origins: false, allowed_origins: ['https://a.example'] } });
    const pre = await preflight('https://a.example', d);
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET,POST,PUT,DELETE,OPTIONS');
    expect(pre.headers.get('access-control-allow-headers')).toBe('authorization,content-type,accept,x-csrf-token');
  });

  it('with no origins at all: only Expose-Headers and Vary (the embedded default)', async () => {
    const d = await service({ cors: { allow_all_origins: false, allowed_origins: [] } });
    const res = await d.request('/auth/health', { headers: { origin: 'https://a.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-expose-headers')).toBe(EXPOSED);
    expect(res.headers.get('vary')).toBe(VARY);
  });
});

describe('Security headers (§2.5)', () => {
  it('are on 200, 401, 404, 405, 413, 429, 503 and preflights', async () => {
    const s = await service({ rate_limit: { max_failures: 1 } });
    const peer = freshPeer();
    await s.post('/auth/token', loginBody({ provider_data: { username: 'admin', password: 'x' } }), {}, peer);
    s.svc.shuttingDown = false;
    const responses: Array<[number, Response]> = [
      [200, await s.request('/auth/health')],
      [401, await s.request('/auth/validate')],
      [404, await s.request('/nope')],
      [405, await s.request('/auth/token')],
      [413, await s.request('/auth/token', sizedInit(TWO_MIB))],
      [429, await s.post('/auth/token', loginBody(), {}, peer)],
    ];
    s.svc.shuttingDown = true;
    responses.push([503, await s.request('/auth/ready')]);
    responses.push([
      204,
      await s.request('/auth/token', { method: 'OPTIONS', headers: { 'access-control-request-method': 'POST' } }),
    ]);
    for (const [status, res] of responses) {
      if (status === 204) expect(res.status).toBeLessThan(300);
      else expect(res.status).toBe(status);
      expectSecurityHeaders(res);
      expect(res.headers.get('vary')).toBe(VARY);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
  });

  it('security.headers.enabled = false removes all of them, CSP included', async () => {
    const s = await service({ security: { headers: { enabled: false } } });
    for (const res of [
      await s.request('/auth/health'),
      await s.request('/nope'),
      await s.request('/auth/login'),
      await s.request('/auth/token'),
      await s.request('/auth/token', sizedInit(TWO_MIB)),
    ]) {
      for (const name of [...Object.keys(SECURITY_HEADERS), 'content-security-policy']) {
        expect(res.headers.get(name), name).toBeNull();
      }
      expect(res.headers.get('vary')).toBe(VARY); // CORS is independent
    }
  });

  it('configured values: HSTS without includeSubDomains, custom frame options, CSP off', async () => {
    const s = await service({
      security: {
        headers: {
          hsts_max_age: 600,
          hsts_include_subdomains: false,
          frame_options: 'SAMEORIGIN',
          referrer_policy: 'no-referrer',
          csp: { enabled: false },
        },
      },
    });
    const res = await s.request('/auth/health');
    expect(res.headers.get('strict-transport-security')).toBe('max-age=600');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBeNull();
    // The login UI keeps its own page policy whenever headers are enabled.
    expect((await s.request('/auth/login')).headers.get('content-security-policy')).toBe(PAGE_CSP);
  });

  it('the configured CSP is built from its lists', async () => {
    const s = await service({
      security: {
        headers: {
          csp: {
            default_src: ["'none'"],
            script_src: ["'self'"],
            style_src: ["'self'"],
            connect_src: ["'self'", 'https://x.example'],
          },
        },
      },
    });
    expect((await s.request('/auth/health')).headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' https://x.example;",
    );
  });

  it.each(['/auth/login', '/auth/login?callback-url=x', '/auth/assets/a.js', '/auth/favicon.ico'])(
    'the login UI route %s carries the strict page CSP instead of the configured one',
    async (path) => {
      expectSecurityHeaders(await t.request(path), PAGE_CSP);
    },
  );

  it.each(['/auth/callback', '/auth/health', '/auth/validate', '/auth/loginx', '/auth/login/'])(
    '%s carries the configured CSP',
    async (path) => {
      expectSecurityHeaders(await t.request(path), DEFAULT_CSP);
    },
  );
});

describe('Security: oversized bodies → 413 "length limit exceeded" before parsing (§2.7)', () => {
  async function expect413(res: Response): Promise<void> {
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('length limit exceeded');
    expectPermissiveCors(res);
    expectSecurityHeaders(res);
    expect(res.headers.get('x-auth-error')).toBeNull();
  }

  it.each([...POST_ROUTES, '/auth/validate', '/nope', '/auth/health'])('2 MiB with Content-Length to %s', async (path) => {
    await expect413(await t.request(path, sizedInit(TWO_MIB)));
  });

  it.each([...POST_ROUTES, '/auth/validate'])('2 MiB chunked (ReadableStream) to %s', async (path) => {
    await expect413(await t.request(path, chunkedInit(TWO_MIB)));
  });

  it.each([...POST_ROUTES, '/auth/validate'])(
    '2 MiB streamed with neither Content-Length nor Transfer-Encoding (an embedded host’s Request) to %s',
    async (path) => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new Uint8Array(TWO_MIB).fill(0x20));
          controller.close();
        },
      });
      const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' };
      await expect413(await t.request(path, init as RequestInit));
    },
  );

  it('before the content-type check and before JSON parsing', async () => {
    await expect413(await t.request('/auth/token', sizedInit(TWO_MIB, { 'content-type': 'text/plain' })));
    await expect413(await t.request('/auth/token', chunkedInit(TWO_MIB, { 'content-type': 'text/plain' })));
  });

  it('at exactly max_body_size the body passes; one byte more is 413', async () => {
    const s = await service({ security: { max_body_size: 300 } });
    const body = JSON.stringify(loginBody());
    const padded = `${body.slice(0, -1)}${' '.repeat(300 - body.length)}}`;
    expect(Buffer.byteLength(padded)).toBe(300);
    const ok = await s.request('/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': '300' },
      body: padded,
    });
    await expectPair(ok);
    const over = `${padded} `;
    await expect413(
      await s.request('/auth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': '301' },
        body: over,
      }),
    );
  });

  it('a 413 is not a login failure and does not reach hashing', async () => {
    const s = await service({ rate_limit: { max_failures: 1 } });
    const peer = freshPeer();
    for (let i = 0; i < 3; i++) await expect413(await s.request('/auth/token', { ...sizedInit(TWO_MIB), peer }));
    await expectPair(await s.post('/auth/token', loginBody(), {}, peer));
  });
});

describe('Security: internal failures never leak (500 "Service panicked", §2.1)', () => {
  it('with the store closed, each route gives its documented answer and never leaks internals', async () => {
    const s = await service();
    const live = await s.login();
    const fresh = await s.login();
    s.clock.advanceSeconds(1800 + 60 + 1);
    await s.svc.core.store.close();

    const token = await s.post('/auth/token', loginBody(), {}, freshPeer());
    expect(token.status).toBe(500);
    expect(token.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await token.text()).toBe('Service panicked');
    expectPermissiveCors(token);
    expectSecurityHeaders(token);

    await expectErr(
      await s.post('/auth/refresh', { access_token: live.access, refresh_token: live.refresh }, { host: 'localhost' }),
      500,
      'Failed to refresh token: Storage error: store is closed',
    );
    await expectErr(
      await s.post('/auth/logout', { refresh_token: fresh.refresh }),
      500,
      'Failed to end session: Storage error: store is closed',
    );
    s.clock.advanceSeconds(-(1800 + 60 + 1));
    await expectErr(
      await s.request('/auth/validate', { headers: bearer(fresh.access) }),
      401,
      'Failed to verify key',
      'invalid_token',
    );
    expect(await (await s.request('/auth/health')).text()).toBe(
      '{"data":{"status":"not_alive","storage":false,"uptime_seconds":0},"error":null}',
    );
    await expectErr(await s.request('/auth/ready'), 503, 'Service not ready: storage');
    expect((await s.request('/auth/providers')).status).toBe(200);
    expect((await s.request('/auth/callback')).status).toBe(200);
  });

  it('closing only the inner store (the helper store) never yields a stack trace either', async () => {
    const s = await service();
    const pair = await s.login();
    await s.store.close();
    const responses = [
      await s.post('/auth/token', loginBody(), {}, freshPeer()),
      await s.post('/auth/refresh', { access_token: pair.access, refresh_token: pair.refresh }),
      await s.post('/auth/logout', { refresh_token: pair.refresh }),
      await s.request('/auth/validate', { headers: bearer(pair.access) }),
      await s.request('/auth/health'),
      await s.request('/auth/ready'),
      await s.request('/auth/providers'),
    ];
    for (const res of responses) {
      const text = await res.text();
      expect(text).not.toMatch(/\bat .*\(|Error:|\.ts:|\.js:|node_modules/);
      expect([200, 401, 403, 500, 503]).toContain(res.status);
    }
  });
});
