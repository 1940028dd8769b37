import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsApp } from '../../src/http/metrics-app.js';
import type { PrometheusMetrics } from '../../src/metrics/index.js';
import { parseExposition } from '../helpers/prometheus.js';
import { makeTestService, type TestService } from '../helpers/service.js';

let t: TestService;
let prometheus: PrometheusMetrics;
async function scrape(): Promise<{ res: Response; samples: Map<string, number>; types: Map<string, string> }> {
  const res = await createMetricsApp(prometheus).request('/metrics');
  const { samples, types } = parseExposition(await res.clone().text());
  return { res, samples, types };
}

beforeAll(async () => {
  t = await makeTestService({ metrics: { listen_addr: '127.0.0.1:0' } });
  const p = t.svc.core.metrics.prometheus;
  if (!p) throw new Error('prometheus metrics are off');
  prometheus = p;
});
afterAll(() => t.close());

describe('Prometheus listener (wire §7.7)', () => {
  it('serves valid exposition text with the documented content type; anything else is 404', async () => {
    // parseExposition throws on any line that is not valid exposition text.
    const { res, types } = await scrape();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(Object.fromEntries(types)).toEqual({
      mero_auth_http_requests_total: 'counter',
      mero_auth_http_request_duration_seconds: 'histogram',
      mero_auth_logins_total: 'counter',
      mero_auth_validate_decisions_total: 'counter',
      mero_auth_refreshes_total: 'counter',
      mero_auth_sessions_revoked_total: 'counter',
      mero_auth_keys_revoked_total: 'counter',
    });
    const other = await createMetricsApp(prometheus).request('/auth/health');
    expect(other.status).toBe(404);
    expect(await other.text()).toBe('');
  });

  it('counts what the test does: logins by outcome, validate decisions, refreshes, session revocations', async () => {
    const ok = await t.login();
    await t.login({ password: 'wrong password!' });
    await t.request('/auth/validate', { headers: { authorization: `Bearer ${ok.access}`, host: 'localhost' } });
    await t.request('/auth/validate');
    await t.request('/auth/validate', { headers: { authorization: 'Bearer nope' } });
    t.clock.advanceSeconds(t.svc.config.jwt.access_token_expiry + t.svc.config.jwt.leeway_seconds + 1);
    const refreshed = await t.post(
      '/auth/refresh',
      { access_token: ok.access, refresh_token: ok.refresh },
      { host: 'localhost' },
    );
    expect(refreshed.status).toBe(200);
    const replay = await t.post('/auth/refresh', { access_token: ok.access, refresh_token: ok.refresh }, { host: 'localhost' });
    expect(replay.status).toBe(401);

    const { samples } = await scrape();
    expect(samples.get('mero_auth_logins_total{outcome="success"}')).toBe(1);
    expect(samples.get('mero_auth_logins_total{outcome="invalid_credentials"}')).toBe(1);
    expect(samples.get('mero_auth_validate_decisions_total{decision="allow"}')).toBe(1);
    expect(samples.get('mero_auth_validate_decisions_total{decision="missing_token"}')).toBe(1);
    expect(samples.get('mero_auth_validate_decisions_total{decision="invalid_token"}')).toBe(1);
    expect(samples.get('mero_auth_refreshes_total{outcome="success"}')).toBe(1);
    expect(samples.get('mero_auth_refreshes_total{outcome="reuse"}')).toBe(1);
    expect(samples.get('mero_auth_sessions_revoked_total{reason="refresh_reuse"}')).toBe(1);
    expect(samples.get('mero_auth_http_requests_total{method="POST",route="/auth/token",status="200"}')).toBe(1);
    expect(samples.get('mero_auth_http_requests_total{method="POST",route="/auth/token",status="401"}')).toBe(1);
    expect(samples.get('mero_auth_http_request_duration_seconds_count{method="GET",route="/auth/validate"}')).toBe(3);
  });

  it('labels carry route patterns, never raw paths (bounded label values)', async () => {
    await t.request('/no/such/path/1');
    await t.request('/no/such/path/2');
    await t.request('/auth/assets/app-1234.js');
    const { samples } = await scrape();
    const routes = new Set([...samples.keys()].map((k) => /route="([^"]*)"/.exec(k)?.[1]).filter(Boolean));
    expect(routes.has('unmatched')).toBe(true);
    expect([...routes].some((r) => r?.includes('/no/such'))).toBe(false);
    expect([...routes].some((r) => r?.includes('app-1234'))).toBe(false);
    expect(samples.get('mero_auth_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(2);
  });

  it('a logout counts a session revoked for logout', async () => {
    const { refresh } = await t.login();
    expect((await t.post('/auth/logout', { refresh_token: refresh })).status).toBe(200);
    const { samples } = await scrape();
    expect(samples.get('mero_auth_sessions_revoked_total{reason="logout"}')).toBe(1);
  });
});

describe('without metrics.listen_addr', () => {
  it('no Prometheus registry exists at all (nothing is paid for on the hot path)', async () => {
    const s = await makeTestService({}, { admin: false });
    try {
      expect(s.svc.core.metrics.prometheus).toBeUndefined();
      expect(s.svc.core.metrics.admin.snapshot().auth_attempts).toBe(0);
    } finally {
      await s.close();
    }
  });
});

describe('Prometheus labels and outcomes (review findings)', () => {
  it('an unknown path under /admin/ is route="unmatched", not the middleware pattern', async () => {
    await t.request('/admin/nope');
    const { samples } = await scrape();
    expect(samples.get('mero_auth_http_requests_total{method="GET",route="unmatched",status="404"}')).toBeGreaterThanOrEqual(1);
    expect([...samples.keys()].some((k) => k.includes('route="/admin/*"'))).toBe(false);
  });

  it('a login body that fails extraction counts as bad_request', async () => {
    const before = (await scrape()).samples.get('mero_auth_logins_total{outcome="bad_request"}') ?? 0;
    await t.post('/auth/token', '{not json');
    await t.post('/auth/token', { auth_method: 'user_password' });
    const after = (await scrape()).samples.get('mero_auth_logins_total{outcome="bad_request"}') ?? 0;
    expect(after - before).toBe(2);
  });
});
