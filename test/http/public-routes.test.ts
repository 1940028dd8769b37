/**
 * The other public routes: /auth/logout (§3.10), /auth/providers (§3.6), /auth/health (§3.7),
 * /auth/ready (§3.8), /auth/callback (§3.5), /auth/mock-token (§3.9) and the login UI (§3.1).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { nowSeconds } from '../../src/util/clock.js';
import {
  adminKeyId,
  bearer,
  decodeJwt,
  expectEmpty,
  expectErr,
  expectExtraction,
  expectPair,
  expectSecurityHeaders,
  forgeForeign,
  forgeUnsigned,
  JWT_HEADER,
  mintPair,
  PAGE_CSP,
  T0,
  updateKey,
  UUID_V4,
} from '../helpers/http.js';
import { testServices, type TestService } from '../helpers/service.js';

const service = testServices();

let t: TestService;
beforeAll(async () => {
  t = await service();
});

const SESSION_ENDED = '{"data":{"success":true,"message":"Session ended"},"error":null}';

describe('POST /auth/logout (§3.10)', () => {
  async function logout(refreshToken: unknown, headers: Record<string, string> = {}, s = t): Promise<Response> {
    const res = await s.post('/auth/logout', { refresh_token: refreshToken }, headers);
    expect(res.headers.get('x-auth-error')).toBeNull();
    return res;
  }

  it('ends the session: 200 {"success":true,"message":"Session ended"}; the key and other sessions live on', async () => {
    const mine = await t.login();
    const other = await t.login();
    const res = await logout(mine.refresh, { authorization: 'Bearer ignored' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe(SESSION_ENDED);
    const sid = decodeJwt(mine.refresh).payload.sid as string;
    const session = await t.svc.core.sessions.get(sid);
    expect(session).toMatchObject({ revoked_at: nowSeconds(t.clock), revoked_reason: 'logout' });
    const v = await t.request('/auth/validate', { headers: bearer(mine.access) });
    expect(v.status).toBe(403);
    expect(v.headers.get('x-auth-error')).toBe('token_revoked');
    expect((await t.request('/auth/validate', { headers: bearer(other.access) })).status).toBe(200);
    expect((await t.svc.core.keys.get(await adminKeyId(t)))?.revoked_at).toBeNull();
    expect((await t.login()).res.status).toBe(200);
  });

  it('is idempotent: a second logout of the same session → 200', async () => {
    const { refresh } = await t.login();
    expect(await (await logout(refresh)).text()).toBe(SESSION_ENDED);
    expect(await (await logout(refresh)).text()).toBe(SESSION_ENDED);
  });

  it('an unknown session → 200 (nothing to end)', async () => {
    const pair = await mintPair(t, { session: false });
    expect(await (await logout(pair.refresh)).text()).toBe(SESSION_ENDED);
  });

  it('an expired refresh token → 200 (every token of the session has expired anyway)', async () => {
    const s = await service({ jwt: { access_token_expiry: 60, refresh_token_expiry: 120 } });
    const { refresh } = await s.login();
    s.clock.advanceSeconds(120 + 60 + 1);
    expect(await (await logout(refresh, {}, s)).text()).toBe(SESSION_ENDED);
  });

  it('needs no host header: no node-binding check', async () => {
    const { refresh } = await t.login({ client_name: 'https://node1.example.com' });
    const res = await t.request('/auth/logout', {
      method: 'POST',
      headers: { 'content-type': 'application/json', host: 'node2.example.com' },
      body: JSON.stringify({ refresh_token: refresh }),
    });
    expect(await res.text()).toBe(SESSION_ENDED);
  });

  it.each<[string, () => Promise<string>, string]>([
    ['garbage', async () => 'garbage', 'Invalid refresh token: Invalid token: Malformed token: InvalidToken'],
    [
      'an access token',
      async () => (await t.login()).access,
      'Invalid refresh token: Invalid token: Wrong token type: expected Refresh, got Access',
    ],
    [
      'a foreign signature',
      async () => forgeForeign(decodeJwt((await t.login()).refresh).payload),
      'Invalid refresh token: Invalid token: InvalidSignature',
    ],
    [
      'alg none',
      async () => forgeUnsigned({ alg: 'none' }, decodeJwt((await t.login()).refresh).payload),
      'Invalid refresh token: Invalid token: InvalidAlgorithm',
    ],
    ['10 000 characters', async () => 'x'.repeat(10_000), 'Invalid refresh token: Invalid token: Malformed token: InvalidToken'],
  ])('401 without X-Auth-Error for %s', async (_name, make, message) => {
    await expectErr(await logout(await make()), 401, message);
  });

  it('body extraction: 400 missing field, 422 empty token, 400 wrong content type', async () => {
    await expectExtraction(
      await t.post('/auth/logout', {}),
      400,
      'Invalid JSON: Failed to deserialize the JSON body into the target type: missing field `refresh_token`',
      true,
    );
    await expectExtraction(
      await t.post('/auth/logout', { refresh_token: 5 }),
      400,
      'Invalid JSON: Failed to deserialize the JSON body into the target type: ',
    );
    await expectExtraction(
      await t.post('/auth/logout', { refresh_token: '' }),
      422,
      'Validation error: refresh_token: Refresh token is required',
      true,
    );
    await expectExtraction(
      await t.request('/auth/logout', {
        method: 'POST',
        body: '{"refresh_token":"x"}',
        headers: { 'content-type': 'text/plain' },
      }),
      400,
      'Invalid JSON: Expected request with `Content-Type: application/json`',
      true,
    );
  });

  it('is not rate limited', async () => {
    for (let i = 0; i < 30; i++) expect((await logout('garbage')).status).toBe(401);
    const { refresh } = await t.login();
    expect(await (await logout(refresh)).text()).toBe(SESSION_ENDED);
  });
});

describe('GET /auth/providers (§3.6)', () => {
  const provider = (configured: boolean) =>
    JSON.stringify({
      data: {
        providers: [
          {
            name: 'user_password',
            type: 'credentials',
            description: 'Authenticates users with username and password credentials',
            configured,
            config: { enabled: true, description: 'Username and password authentication' },
          },
        ],
        count: 1,
      },
      error: null,
    });

  it('lists user_password with configured:true once an account exists', async () => {
    const res = await t.request('/auth/providers', { headers: { authorization: 'Bearer garbage' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe(provider(true));
  });

  it('configured:false on a fresh node with no account', async () => {
    const s = await service({}, { admin: false });
    expect(await (await s.request('/auth/providers')).text()).toBe(provider(false));
  });

  it('configured:false when the only account key is revoked; mock keys do not count', async () => {
    const s = await service({ development: { enable_mock_auth: true, mock_auth_header_value: 'secret' } });
    await updateKey(s, await adminKeyId(s), { revoked_at: nowSeconds(s.clock) });
    const mock = await s.post('/auth/mock-token', { client_name: 'x' }, { authorization: 'secret' });
    expect(mock.status).toBe(200);
    expect(await (await s.request('/auth/providers')).text()).toBe(provider(false));
  });

  it('configured:true on a storage error (as Rust)', async () => {
    const s = await service();
    await s.svc.core.store.close();
    expect(await (await s.request('/auth/providers')).text()).toBe(provider(true));
  });

  it('[] when the provider is disabled', async () => {
    const s = await service({ providers: { user_password: false } });
    expect(await (await s.request('/auth/providers')).text()).toBe('{"data":{"providers":[],"count":0},"error":null}');
  });

  it('HEAD: same status and headers, no body', async () => {
    const get = await t.request('/auth/providers');
    const head = await t.request('/auth/providers', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect([...head.headers]).toEqual([...get.headers]);
    expect(await head.text()).toBe('');
  });
});

describe('GET /auth/health (§3.7)', () => {
  it('200 alive with whole-second uptime from the injected clock', async () => {
    const s = await service();
    const res = await s.request('/auth/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe('{"data":{"status":"alive","storage":true,"uptime_seconds":0},"error":null}');
    s.clock.advanceMs(42_999);
    expect(await (await s.request('/auth/health')).text()).toBe(
      '{"data":{"status":"alive","storage":true,"uptime_seconds":42},"error":null}',
    );
  });

  it('still 200 when storage fails, with status not_alive and storage:false', async () => {
    const s = await service();
    await s.svc.core.store.close();
    const res = await s.request('/auth/health');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"data":{"status":"not_alive","storage":false,"uptime_seconds":0},"error":null}');
  });

  it('200 while shutting down (liveness is not readiness)', async () => {
    const s = await service();
    s.svc.shuttingDown = true;
    expect((await s.request('/auth/health')).status).toBe(200);
  });
});

describe('GET /auth/ready (§3.8)', () => {
  it('200 ready when the store answers, secrets are loaded and not shutting down', async () => {
    const res = await t.request('/auth/ready');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"data":{"status":"ready","storage":true,"secrets":true},"error":null}');
  });

  it('503 "Service not ready: shutting down", no Retry-After, no X-Auth-Error', async () => {
    const s = await service();
    s.svc.shuttingDown = true;
    const res = await s.request('/auth/ready');
    expect(res.headers.get('retry-after')).toBeNull();
    expectSecurityHeaders(res);
    await expectErr(res, 503, 'Service not ready: shutting down');
    const head = await s.request('/auth/ready', { method: 'HEAD' });
    expect(head.status).toBe(503);
    expect(await head.text()).toBe('');
  });

  it('503 "Service not ready: storage" when the store fails; reasons in order', async () => {
    const s = await service();
    await s.svc.core.store.close();
    await expectErr(await s.request('/auth/ready'), 503, 'Service not ready: storage');
    s.svc.shuttingDown = true;
    await expectErr(await s.request('/auth/ready'), 503, 'Service not ready: storage, shutting down');
  });
});

describe('GET /auth/callback (§3.5)', () => {
  const DEFAULT = '"http://127.0.0.1:9080/callback"';
  async function page(query: string | undefined): Promise<{ res: Response; html: string }> {
    const res = await t.request(
      query === undefined ? '/auth/callback' : `/auth/callback?callback-url=${encodeURIComponent(query)}`,
    );
    return { res, html: await res.text() };
  }

  it('200 text/html, no-store, titled "Calimero Authentication", links to the login page, fabricates no token', async () => {
    const { res, html } = await page('http://127.0.0.1:9081/callback?state=abc');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(html).toContain('<title>Calimero Authentication</title>');
    expect(html).toContain(`/auth/login?callback-url=${encodeURIComponent('http://127.0.0.1:9081/callback?state=abc')}`);
    expect(html).not.toMatch(/temp_access_token|access_token=|refresh_token=/);
  });

  it.each([
    ["'; alert(1); //", "'; alert(1); //"],
    ['javascript:alert(1)', 'javascript:alert(1)'],
    ['a data: URL', 'data:text/html,<script>alert(1)</script>'],
    ['not a url', 'not a url'],
    ['a relative path', '/callback'],
    ['ftp:', 'ftp://example.com/cb'],
    ['an empty value', ''],
    ['control characters', '\u0000\u0001\n'],
  ])('%s falls back to the default callback', async (_name, input) => {
    const { res, html } = await page(input);
    expect(res.status).toBe(200);
    expect(html).toContain(DEFAULT);
    expect(html).not.toContain('alert(1)');
  });

  it('a missing value falls back to the default callback', async () => {
    expect((await page(undefined)).html).toContain(DEFAULT);
  });

  it('an https URL appears as a double-quoted string containing the host', async () => {
    const { html } = await page('https://app.example.com/cb?x=1');
    expect(html).toContain('"https://app.example.com/cb?x=1"');
    expect(html).toContain('app.example.com');
  });

  it('a bare origin is re-serialised with a trailing slash', async () => {
    expect((await page('http://localhost:8080')).html).toContain('"http://localhost:8080/"');
  });

  it('a URL containing </script><script> leaves no raw < or > from the input', async () => {
    const input = 'https://app.example.com/cb?x=</script><script>alert(document.domain)</script>&y="\'&\u2028';
    const { html } = await page(input);
    expect(html).toContain('app.example.com');
    expect(html).not.toContain('</script><script>');
    expect(html).not.toContain('<script>alert');
    // Only the template's own tags remain.
    const template = (await page(undefined)).html;
    const tags = (s: string) => (s.match(/[<>]/g) ?? []).length;
    expect(tags(html)).toBe(tags(template));
    expect(html).not.toContain('\u2028');
  });

  it('HEAD: same status and headers, no body', async () => {
    const head = await t.request('/auth/callback', { method: 'HEAD' });
    const get = await t.request('/auth/callback');
    expect(head.status).toBe(200);
    expect([...head.headers]).toEqual([...get.headers]);
    expect(await head.text()).toBe('');
  });
});

describe('POST /auth/mock-token (§3.9)', () => {
  it.each(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'])(
    'disabled (the default): %s → the empty-body 404',
    async (method) => {
      const res = await t.request('/auth/mock-token', {
        method,
        headers: { 'content-type': 'application/json', authorization: 'Bearer test-auth-token' },
        ...(method === 'GET' || method === 'HEAD' ? {} : { body: '{"client_name":"x"}' }),
      });
      await expectEmpty(res, 404);
      expectSecurityHeaders(res);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    },
  );

  it('disabled: a malformed body is never read (still 404)', async () => {
    await expectEmpty(await t.post('/auth/mock-token', '{not json'), 404);
  });

  describe('enabled', () => {
    const HEADER = 'Bearer test-auth-token';
    let m: TestService;
    beforeAll(async () => {
      m = await service({ development: { enable_mock_auth: true, mock_auth_header_value: HEADER } });
    });
    const mock = (body: unknown, headers: Record<string, string> = { authorization: HEADER }) =>
      m.post('/auth/mock-token', body, headers);

    it.each<[string, Record<string, string>]>([
      ['no Authorization header', {}],
      ['a different value', { authorization: 'Bearer wrong' }],
      ['a lower-case scheme', { authorization: 'bearer test-auth-token' }],
      ['the bare token', { authorization: 'test-auth-token' }],
      ['a longer value', { authorization: `${HEADER}x` }],
    ])('401 for %s', async (_name, headers) => {
      const res = await mock({ client_name: 'x' }, headers);
      expect(res.headers.get('x-mock-token')).toBeNull();
      await expectErr(res, 401, 'Invalid or missing authorization for mock endpoint');
    });

    it('body extraction runs before the header check', async () => {
      await expectExtraction(await mock('{', {}), 400, 'Invalid JSON: Failed to parse the request body as JSON: ');
      await expectExtraction(
        await mock({}, {}),
        400,
        'Invalid JSON: Failed to deserialize the JSON body into the target type: missing field `client_name`',
        true,
      );
      await expectExtraction(
        await mock({ client_name: '' }, {}),
        422,
        'Validation error: client_name: Client name is required',
        true,
      );
      await expectExtraction(
        await mock({ client_name: 'x', access_token_expiry: -1 }),
        400,
        'Invalid JSON: Failed to deserialize',
      );
      await expectExtraction(await mock({ client_name: 'x', permissions: [1] }), 400, 'Invalid JSON: Failed to deserialize');
    });

    it('mints a pair with defaults ["admin"], the three X- headers and key id mock_<client_name>_<now>', async () => {
      const res = await mock({ client_name: 'e2e-tests', access_token_expiry: 5, refresh_token_expiry: 10 });
      const keyId = `mock_e2e-tests_${T0}`;
      expect(res.headers.get('x-mock-token')).toBe('true');
      expect(res.headers.get('x-key-id')).toBe(keyId);
      expect(res.headers.get('x-warning')).toBe('Mock token - for testing only');
      expect(res.headers.get('x-auth-error')).toBeNull();
      const { access, refresh } = await expectPair(res);
      const a = decodeJwt(access);
      expect(a.headerPart).toBe(JWT_HEADER);
      // The requested expiries are ignored; the configured ones apply.
      expect(a.payload).toEqual({
        sub: keyId,
        iss: 'calimero-auth',
        aud: 'calimero-auth',
        exp: T0 + 1800,
        iat: T0,
        jti: expect.stringMatching(UUID_V4),
        token_type: 'access',
        permissions: ['admin'],
        sid: expect.stringMatching(UUID_V4),
      });
      expect(decodeJwt(refresh).payload.exp).toBe(T0 + 2_592_000);
      const key = await m.svc.core.keys.get(keyId);
      expect(key).toMatchObject({
        key_type: 'Root',
        public_key: `mock_public_key_${T0}`,
        auth_method: 'mock_auth',
        permissions: ['admin'],
        revoked_at: null,
      });
      // No node_url: validate needs no host header.
      const v = await m.request('/auth/validate', { headers: { authorization: `Bearer ${access}` } });
      expect(v.status).toBe(200);
      expect(v.headers.get('x-auth-user')).toBe(keyId);
      expect(v.headers.get('x-auth-permissions')).toBe('admin');
    });

    it('permissions null → ["admin"]; [] stays empty; an explicit list is kept', async () => {
      m.clock.advanceSeconds(1);
      const nul = await expectPair(await mock({ client_name: 'p-null', permissions: null }));
      expect(decodeJwt(nul.access).payload.permissions).toEqual(['admin']);
      const empty = await expectPair(await mock({ client_name: 'p-empty', permissions: [] }));
      expect(decodeJwt(empty.access).payload.permissions).toEqual([]);
      const v = await m.request('/auth/validate', { headers: { authorization: `Bearer ${empty.access}` } });
      expect(v.status).toBe(200);
      expect(v.headers.get('x-auth-permissions')).toBeNull();
      const list = await expectPair(await mock({ client_name: 'p-list', permissions: ['keys:list', 'admin'] }));
      expect(decodeJwt(list.access).payload.permissions).toEqual(['keys:list', 'admin']);
    });

    it('node_url becomes the key’s and the tokens’ node_url', async () => {
      const res = await mock({ client_name: 'bound', node_url: 'http://node-a.example:2428' });
      const keyId = res.headers.get('x-key-id') ?? '';
      const { access } = await expectPair(res);
      expect(decodeJwt(access).payload.node_url).toBe('http://node-a.example:2428');
      expect((await m.svc.core.keys.get(keyId))?.node_url).toBe('http://node-a.example:2428');
      const bad = await m.request('/auth/validate', { headers: { authorization: `Bearer ${access}`, host: 'node-b.example' } });
      expect(bad.status).toBe(403);
      expect(bad.headers.get('x-auth-error')).toBe('invalid_node');
      const good = await m.request('/auth/validate', { headers: { authorization: `Bearer ${access}`, host: 'node-a.example' } });
      expect(good.status).toBe(200);
    });

    it('client_name is sanitised for the key id; nothing left → 400', async () => {
      m.clock.advanceSeconds(1);
      const res = await mock({ client_name: 'my\u0000cli\u00e9ent\n' });
      expect(res.headers.get('x-key-id')).toBe(`mock_myclient_${nowSeconds(m.clock)}`);
      await expectPair(res);
      await expectErr(await mock({ client_name: '\u00e9\u65e5\n' }), 400, 'Client name cannot be empty after sanitization');
    });

    it('the same client_name in the same second overwrites the key (one id)', async () => {
      m.clock.advanceSeconds(1);
      const a = await mock({ client_name: 'same', permissions: ['a'] });
      const b = await mock({ client_name: 'same', permissions: ['b'] });
      expect(a.headers.get('x-key-id')).toBe(b.headers.get('x-key-id'));
      expect((await m.svc.core.keys.get(a.headers.get('x-key-id') ?? ''))?.permissions).toEqual(['b']);
    });

    it('is not rate limited', async () => {
      for (let i = 0; i < 25; i++) expect((await mock({ client_name: 'x' }, {})).status).toBe(401);
      expect((await mock({ client_name: 'x' })).status).toBe(200);
    });

    it('wrong method → 405 Allow: POST', async () => {
      const res = await m.request('/auth/mock-token');
      await expectEmpty(res, 405);
      expect(res.headers.get('allow')).toBe('POST');
    });
  });
});

describe('Login UI routes (§3.1)', () => {
  it('GET /auth/login → 200 html, no-store, the strict page CSP, any query ignored', async () => {
    for (const path of [
      '/auth/login',
      '/auth/login?callback-url=http%3A%2F%2F127.0.0.1%3A9080%2Fcallback&permissions=admin&mode=x&package-name=p',
    ]) {
      const res = await t.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expectSecurityHeaders(res, PAGE_CSP);
      const html = await res.text();
      expect(html).not.toContain('unsafe-inline');
    }
  });

  it('no provider enabled → the Rust "No authentication provider" page', async () => {
    const s = await service({ providers: { user_password: false } });
    const res = await s.request('/auth/login');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('<html><body><h1>No authentication provider is available</h1></body></html>');
  });

  it.each([
    '/auth/assets/index-abc123.js',
    '/auth/assets/missing.css',
    '/auth/assets/deep/nested/file.svg',
    '/auth/assets/%2e%2e%2fsecret',
    '/auth/assets/..%5cx',
  ])('a missing bundle file %s → 404 "File not found", no-store, page CSP', async (path) => {
    const res = await t.request(path);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expectSecurityHeaders(res, PAGE_CSP);
    expect(await res.text()).toBe('File not found');
  });

  it.each(['/auth/login', '/auth/assets/x.js', '/auth/favicon.ico'])(
    'HEAD %s: same status and headers, no body',
    async (path) => {
      const get = await t.request(path);
      const head = await t.request(path, { method: 'HEAD' });
      expect(head.status).toBe(get.status);
      expect([...head.headers]).toEqual([...get.headers]);
      expect(await head.text()).toBe('');
    },
  );
});
