/**
 * The auth seam end to end against the real process (issue 3 acceptance; wire §3.4, §5.7, §5.8,
 * §5.12, §7.7; permissions.md §8, §11.8): an operator's root login mints client keys, a proxy's
 * forward-auth hop (`/auth/validate` with X-Forwarded-Method / X-Forwarded-Uri) admits or refuses
 * node routes by the key's permissions, a client-key refresh keeps its id, revoking the client key
 * ends its tokens everywhere, and both metrics surfaces count what happened.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { claims, pairOf, refresh, request, waitUntilExpired, type Reply, type TokenPair } from './client.js';
import { FAST_ENV, freePort, startService, tempDir, type Service } from './process.js';
import { parseExposition } from '../helpers/prometheus.js';

const ADMIN_USER = 'operator';
const CONTEXT_PERMISSIONS = ['context:create', 'context:list', 'context:execute'];
const DENIED = { data: null, error: 'Permission denied' };

/** `POST /auth/token` with `client_name` = the service's base URL: the pair is bound to its host. */
async function rootLogin(svc: Service, password: string): Promise<TokenPair> {
  const reply = await request(`${svc.url}/auth/token`, {
    body: {
      auth_method: 'user_password',
      public_key: ADMIN_USER,
      client_name: svc.url,
      timestamp: Math.floor(Date.now() / 1000),
      provider_data: { username: ADMIN_USER, password },
    },
  });
  expect(reply.status, reply.text).toBe(200);
  return pairOf(reply);
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** `POST /admin/client-key` as the login frontend sends it. */
async function mintClientKey(svc: Service, rootAccess: string, permissions: string[]): Promise<TokenPair> {
  const reply = await request(`${svc.url}/admin/client-key`, {
    headers: bearer(rootAccess),
    body: { context_id: '', context_identity: '', permissions },
  });
  expect(reply.status, reply.text).toBe(200);
  expect(reply.json).toEqual({
    data: { access_token: expect.any(String), refresh_token: expect.any(String), error: null },
    error: null,
  });
  return pairOf(reply);
}

/** What a forward-auth proxy sends: the bearer plus, optionally, the route it forwards. */
function forwarded(svc: Service, token: string, route?: { method: string; uri: string }): Promise<Reply> {
  const headers = bearer(token);
  if (route) {
    headers['x-forwarded-method'] = route.method;
    headers['x-forwarded-uri'] = route.uri;
  }
  return request(`${svc.url}/auth/validate`, { headers });
}

function expectAllowed(reply: Reply, what: string): void {
  expect(reply.status, `${what}: ${reply.text}`).toBe(200);
  expect(reply.json, what).toEqual({ data: '', error: null });
  expect(reply.headers.get('x-auth-error'), what).toBeNull();
}

function expectError(reply: Reply, status: number, xae: string, error: string, what: string): void {
  expect(reply.status, `${what}: ${reply.text}`).toBe(status);
  expect(reply.headers.get('x-auth-error'), what).toBe(xae);
  expect(reply.json, what).toEqual({ data: null, error });
}

// ---------------------------------------------------------------------------------------------
// A strict reader of the Prometheus text exposition format (0.0.4): every non-empty line is
// `# HELP <name> <text>`, `# TYPE <name> <type>` or a sample; no other comment, no stray text.
// A family's TYPE comes at most once and before its samples; HELP at most once; a sample belongs
// to a declared family (histograms: `_bucket`, `_sum`, `_count`); labels are well-formed and not
// repeated; values are floats; the text ends with a newline. Empty lines are allowed (the format
// ignores them, and prom-client separates families with one).
// ---------------------------------------------------------------------------------------------

describe('the auth seam against the real process (issue 3 acceptance)', () => {
  it('root login → client keys → forward-auth allow/deny → refresh keeps the client id → revocation ends it → both metrics surfaces count it', async () => {
    const cwd = await tempDir();
    const password = `seam-${randomBytes(12).toString('base64url')}`;
    const metricsPort = await freePort();
    const svc = await startService({
      cwd,
      env: {
        ...FAST_ENV,
        AUTH__JWT__ACCESS_TOKEN_EXPIRY: '2',
        AUTH__JWT__LEEWAY_SECONDS: '0',
        AUTH__METRICS__LISTEN_ADDR: `127.0.0.1:${metricsPort}`,
        MERO_AUTH_ADMIN_USER: ADMIN_USER,
        MERO_AUTH_ADMIN_PASSWORD: password,
      },
    });
    let logins = 0;
    const login = async () => {
      logins += 1;
      return rootLogin(svc, password);
    };

    // 1. Root login, host-bound to the service's URL; then a context-scoped client key.
    const root = await login();
    const rootId = claims(root.access_token).sub as string;
    expect(claims(root.access_token).node_url).toBe(svc.url);
    expect(claims(root.access_token).permissions).toEqual(['admin']);
    expectAllowed(await forwarded(svc, root.access_token), 'root token, session probe');
    expectError(
      await request(`${svc.url}/auth/validate`, {
        headers: { ...bearer(root.access_token), 'x-forwarded-host': 'elsewhere.example' },
      }),
      403,
      'invalid_node',
      `Token is not valid for this host. Token is for '127.0.0.1' but request is to 'elsewhere.example'`,
      'root token presented for another host',
    );

    const scoped = await mintClientKey(svc, root.access_token, CONTEXT_PERMISSIONS);
    const clientId = claims(scoped.access_token).sub as string;
    expect(clientId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(claims(scoped.access_token).permissions).toEqual(CONTEXT_PERMISSIONS);

    // 2. Forward auth enforces the route table on what the proxy forwards (wire §3.4 row 6).
    expectAllowed(
      await forwarded(svc, scoped.access_token, { method: 'GET', uri: '/admin-api/contexts' }),
      'GET /admin-api/contexts',
    );
    expectAllowed(await forwarded(svc, scoped.access_token, { method: 'POST', uri: '/jsonrpc' }), 'POST /jsonrpc');
    let denials = 0;
    const denied = async (token: string, method: string, uri: string) => {
      denials += 1;
      expectError(await forwarded(svc, token, { method, uri }), 403, 'permission_denied', DENIED.error, `${method} ${uri}`);
    };
    await denied(scoped.access_token, 'POST', '/admin-api/namespaces');

    // 3. A client key scoped to one application id: its own application only, never the global listing.
    const appId = `app-${randomUUID()}`;
    const appScoped = await mintClientKey(svc, root.access_token, [`context:list[${appId}]`, `context:create[${appId}]`]);
    await denied(appScoped.access_token, 'GET', '/admin-api/contexts');
    await denied(appScoped.access_token, 'POST', '/admin-api/contexts');
    expectAllowed(
      await forwarded(svc, appScoped.access_token, { method: 'GET', uri: `/admin-api/contexts/for-application/${appId}` }),
      'GET contexts of its own application',
    );

    // 4. Without the forwarded headers /auth/validate is the session probe: it only authenticates.
    for (const [what, pair] of [
      ['context-scoped', scoped],
      ['application-scoped', appScoped],
    ] as const) {
      const probe = await forwarded(svc, pair.access_token);
      expectAllowed(probe, `${what} session probe`);
      expect(probe.headers.get('x-auth-user')).toBe(claims(pair.access_token).sub);
    }

    // 5. The client's access token expires (a state, polled); its refresh keeps the client id.
    const expired = await waitUntilExpired(svc.url, scoped.access_token);
    expectError(expired, 401, 'token_expired', 'Invalid token: Token has expired', 'expired client access token');
    const refreshed = await refresh(svc.url, scoped.access_token, scoped.refresh_token);
    expect(refreshed.status, refreshed.text).toBe(200);
    const next = pairOf(refreshed);
    expect(claims(next.access_token).sub).toBe(clientId);
    expect(claims(next.refresh_token).sub).toBe(clientId);
    expect(claims(next.access_token).sid).toBe(claims(scoped.access_token).sid);
    expect(claims(next.access_token).permissions).toEqual(CONTEXT_PERMISSIONS);
    expectAllowed(await forwarded(svc, next.access_token, { method: 'GET', uri: '/admin-api/contexts' }), 'refreshed token');

    // Revoking the client key (the root token from step 1 has expired too: log in again).
    const root2 = await login();
    const revoked = await request(`${svc.url}/admin/keys/${rootId}/clients/${clientId}`, {
      method: 'DELETE',
      headers: bearer(root2.access_token),
    });
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.json).toEqual({
      data: { message: 'Client key revoked successfully', revoked_at: expect.any(Number) },
      error: null,
    });
    // The refreshed access token is at most a few hundred ms old: revoked, not expired.
    expectError(
      await forwarded(svc, next.access_token),
      403,
      'token_revoked',
      'Key has been revoked',
      'revoked client, validate',
    );
    // Its refresh token, paired with the expired access token of the same client (an exchange
    // needs an expired access token): terminal, never a 500.
    expectError(
      await refresh(svc.url, scoped.access_token, next.refresh_token),
      403,
      'token_revoked',
      'Key has been revoked',
      'revoked client, refresh',
    );
    // The other client key and the root account are untouched.
    expectAllowed(await forwarded(svc, root2.access_token), 'root after the client revocation');

    // 6. Prometheus on its own listener: strict text, and the decisions this test made.
    const scrape = await request(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scrape.status, scrape.text).toBe(200);
    expect(scrape.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const { types, samples } = parseExposition(scrape.text);
    for (const family of [
      'mero_auth_http_requests_total',
      'mero_auth_logins_total',
      'mero_auth_validate_decisions_total',
      'mero_auth_refreshes_total',
      'mero_auth_sessions_revoked_total',
      'mero_auth_keys_revoked_total',
    ]) {
      expect(types.get(family), family).toBe('counter');
    }
    expect(types.get('mero_auth_http_request_duration_seconds')).toBe('histogram');
    expect(samples.get('mero_auth_logins_total{outcome="success"}')).toBe(logins);
    expect(samples.get('mero_auth_refreshes_total{outcome="success"}')).toBe(1);
    expect(samples.get('mero_auth_refreshes_total{outcome="revoked"}')).toBe(1);
    expect(samples.get('mero_auth_validate_decisions_total{decision="permission_denied"}')).toBe(denials);
    expect(samples.get('mero_auth_validate_decisions_total{decision="token_expired"}')).toBe(1);
    expect(samples.get('mero_auth_validate_decisions_total{decision="token_revoked"}')).toBe(1);
    expect(samples.get('mero_auth_validate_decisions_total{decision="invalid_node"}')).toBe(1);
    expect(samples.get('mero_auth_validate_decisions_total{decision="allow"}')).toBeGreaterThanOrEqual(8);
    expect(samples.get('mero_auth_keys_revoked_total{type="client"}')).toBe(1);
    expect(samples.get('mero_auth_sessions_revoked_total{reason="key_revoked"}')).toBe(1);
    expect(samples.get('mero_auth_http_requests_total{method="POST",route="/admin/client-key",status="200"}')).toBe(2);
    expect(
      samples.get('mero_auth_http_requests_total{method="DELETE",route="/admin/keys/:key_id/clients/:client_id",status="200"}'),
    ).toBe(1);
    // The route label is the pattern, never the raw path with its ids.
    expect(scrape.text).not.toContain(clientId);
    const elsewhere = await request(`http://127.0.0.1:${metricsPort}/auth/health`);
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.text).toBe('');

    // ...and the JSON counters of /admin/metrics (wire §5.12).
    const adminMetrics = await request(`${svc.url}/admin/metrics`, { headers: bearer(root2.access_token) });
    expect(adminMetrics.status, adminMetrics.text).toBe(200);
    const counters = adminMetrics.json?.data as Record<string, unknown>;
    expect(counters).toMatchObject({
      auth_attempts: logins,
      auth_successes: logins,
      auth_failures: 0,
      auth_success_rate: 100,
      auth_failures_by_type: {},
      token_refreshes: 1,
      token_revocations: 1,
    });
    expect(counters.auth_successes).toBeGreaterThanOrEqual(1);
    expect(counters.token_refreshes).toBeGreaterThanOrEqual(1);
    expect(counters.token_revocations).toBeGreaterThanOrEqual(1);
  });
});

describe('the strict exposition reader used above', () => {
  it('accepts HELP, TYPE, samples and empty lines; rejects anything else', () => {
    const good =
      '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1",y="q\\"\\\\\\n"} 2\n\n# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 0.5\nh_count 1\n';
    const { samples } = parseExposition(good);
    expect(samples.get('a_total{x="1",y="q\\"\\\\\\n"}')).toBe(2);
    expect(samples.get('h_bucket{le="+Inf"}')).toBe(1);
    for (const bad of [
      '# TYPE a counter\na 1', // no final newline
      '# a comment\n',
      '# EOF\n',
      '# TYPE a counter\na one\n',
      '# TYPE a counter\na{x=1} 1\n',
      '# TYPE a counter\na{x="1",x="2"} 1\n',
      '# TYPE a counter\na{x="1"}1\n',
      '# TYPE a counter\na 1 2 3\n',
      'a 1\n', // no TYPE
      '# TYPE a counter\na 1\n# TYPE a counter\n',
      '# TYPE a counter\na 1\na 2\n',
      '# TYPE a counter\na_bucket 1\n',
      '# TYPE a wibble\n',
      'garbage\n',
    ]) {
      expect(() => parseExposition(bad), JSON.stringify(bad)).toThrow();
    }
  });
});
