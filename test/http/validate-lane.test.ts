import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthConfigInput } from '../../src/config/load.js';
import { edgeOptions } from '../../src/http/app.js';
import { createMetricsApp } from '../../src/http/metrics-app.js';
import { validateLane } from '../../src/http/validate-lane.js';
import { closeServer, listen, type Listening } from '../../src/server.js';
import { addClientKey, addUser, adminKeyId, mintPair, updateKey } from '../helpers/http.js';
import { parseExposition } from '../helpers/prometheus.js';
import { fillerHeaders, sendRaw } from '../helpers/raw-http.js';
import { makeTestService, type TestService } from '../helpers/service.js';

/**
 * The validate lane (src/http/validate-lane.ts) answers cached forward-auth allows before the
 * Hono app. Its promise: it only ever answers where the app would answer 200, and then with the
 * same status, headers and body. Every case below is sent to two listeners of one service, one
 * with the lane and one without, over raw sockets (so repeated headers and odd Hosts reach the
 * server as written), and the answers are compared whole.
 */

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The answer to compare: Date differs between two answers by nature; everything else must match. */
async function send(port: number, head: string[], body = ''): Promise<Answer> {
  const { status, headers, body: text } = await sendRaw(port, head, body);
  const { date: _date, ...rest } = headers;
  return { status, headers: rest, body: text };
}

interface Rig {
  t: TestService;
  /** How many requests the lane answered itself. */
  served(): number;
  /** The same request to the app alone and then through the lane: both answers. */
  both(head: string[], body?: string): Promise<{ app: Answer; lane: Answer; laneServed: boolean }>;
  close(): Promise<void>;
}

async function rig(overrides: AuthConfigInput = {}): Promise<Rig> {
  const t = await makeTestService(overrides);
  const lane = validateLane(t.svc, edgeOptions(t.svc));
  let served = 0;
  const withLane: Listening = await listen(t.app, '127.0.0.1:0', {
    lane: (req, res) => {
      const answered = lane(req, res);
      if (answered) served++;
      return answered;
    },
  });
  const appOnly: Listening = await listen(t.app, '127.0.0.1:0');
  return {
    t,
    served: () => served,
    async both(head, body) {
      // The app first: a token seen once is in the caches the lane reads.
      const app = await send(appOnly.address.port, head, body);
      const before = served;
      const lane = await send(withLane.address.port, head, body);
      return { app, lane, laneServed: served > before };
    },
    async close() {
      await closeServer(withLane.server, 1000);
      await closeServer(appOnly.server, 1000);
      await t.close();
    },
  };
}

const get = (...headers: string[]) => ['GET /auth/validate HTTP/1.1', 'Host: localhost', ...headers];
const bearer = (token: string) => `Authorization: Bearer ${token}`;

describe('Validate lane: same answer as the app, served only for cached allows', () => {
  let r: Rig;
  let admin: string;
  let scoped: string;
  let nodeBound: string;
  let revokedSession: string;
  let revokedKey: string;
  beforeAll(async () => {
    r = await rig();
    admin = (await r.t.login()).access;
    const rootId = await addUser(r.t, 'operator', 'operator-password');
    const clientId = await addClientKey(r.t, rootId, ['context:list']);
    scoped = (await mintPair(r.t, { sub: clientId, permissions: ['context:list'] })).access;
    nodeBound = (await mintPair(r.t, { nodeUrl: 'http://node-a.example:2428' })).access;
    const ended = await r.t.login();
    await r.t.post('/auth/logout', { refresh_token: ended.refresh });
    revokedSession = ended.access;
    const doomed = await addClientKey(r.t, rootId, ['context:list']);
    revokedKey = (await mintPair(r.t, { sub: doomed, permissions: ['context:list'] })).access;
    await updateKey(r.t, doomed, { revoked_at: 1_700_000_000 } as never);
  });
  afterAll(() => r.close());

  // [case, request head, does the lane answer it?, the status both give]
  const cases: Array<[string, () => string[], boolean, number]> = [
    ['a cached valid token', () => get(bearer(admin)), true, 200],
    ['with an Origin', () => get(bearer(admin), 'Origin: https://app.example'), true, 200],
    ['with spaces after the token', () => get(`Authorization: Bearer ${admin}   `), true, 200],
    ['with two spaces after Bearer', () => get(`Authorization: Bearer  ${admin}`), true, 200],
    ['with a tab after the token', () => get(`Authorization: Bearer ${admin}\t`), true, 200],
    ['with a tab after Bearer', () => get(`Authorization: Bearer\t${admin}`), false, 401],
    ['with a non-ASCII byte after the token', () => get(`Authorization: Bearer ${admin} \u00e9`), false, 401],
    ['the token in X-Forwarded-Uri', () => get(`X-Forwarded-Uri: /ws?token=${admin}`), true, 200],
    [
      'a client key on a forwarded route it holds',
      () => get(bearer(scoped), 'X-Forwarded-Method: GET', 'X-Forwarded-Uri: /admin-api/contexts'),
      true,
      200,
    ],
    ['a node-bound token at its node', () => get(bearer(nodeBound), 'X-Forwarded-Host: node-a.example'), true, 200],
    [
      'a client key on a forwarded route it lacks',
      () => get(bearer(scoped), 'X-Forwarded-Method: POST', 'X-Forwarded-Uri: /admin-api/namespaces'),
      false,
      403,
    ],
    ['a node-bound token at another node', () => get(bearer(nodeBound), 'X-Forwarded-Host: node-b.example'), false, 403],
    ['Authorization twice', () => get(bearer(admin), bearer(admin)), false, 401],
    [
      'X-Forwarded-Host twice',
      () => get(bearer(nodeBound), 'X-Forwarded-Host: node-a.example', 'X-Forwarded-Host: node-a.example'),
      false,
      403,
    ],
    ['Host twice', () => [...get(bearer(admin)), 'Host: localhost'], false, 200],
    ['an ended session', () => get(bearer(revokedSession)), false, 403],
    ['a revoked key', () => get(bearer(revokedKey)), false, 403],
    ['no token', () => get(), false, 401],
    ['a lower-case scheme', () => get(`Authorization: bearer ${admin}`), false, 401],
    ['a forged signature', () => get(bearer(`${admin.slice(0, -4)}AAAA`)), false, 401],
    ['Host with a port below 1000', () => ['GET /auth/validate HTTP/1.1', 'Host: localhost:80', bearer(admin)], true, 200],
    ['Host in capitals', () => ['GET /auth/validate HTTP/1.1', 'Host: LOCALHOST', bearer(admin)], true, 200],
    ['Host with a port out of range', () => ['GET /auth/validate HTTP/1.1', 'Host: localhost:99999', bearer(admin)], false, 400],
    ['Host with a path in it', () => ['GET /auth/validate HTTP/1.1', 'Host: localhost/x', bearer(admin)], false, 400],
    [
      'Host ending in an invalid IPv4 literal (the app routes it; the lane defers)',
      () => ['GET /auth/validate HTTP/1.1', 'Host: a.1.2.3.999', bearer(admin)],
      false,
      200,
    ],
    ['a query string', () => ['GET /auth/validate?probe=1 HTTP/1.1', 'Host: localhost', bearer(admin)], false, 200],
    ['Content-Length: 0', () => get(bearer(admin), 'Content-Length: 0'), false, 200],
    ['HEAD', () => ['HEAD /auth/validate HTTP/1.1', 'Host: localhost', bearer(admin)], false, 200],
    ['POST', () => ['POST /auth/validate HTTP/1.1', 'Host: localhost', bearer(admin), 'Content-Length: 0'], false, 200],
    ['an encoded path', () => ['GET /auth/%76alidate HTTP/1.1', 'Host: localhost', bearer(admin)], false, 404],
    // Host, Authorization and Connection (added by send) count: 100 fields, then 101.
    ['exactly 100 header fields', () => get(bearer(admin), ...fillerHeaders(97)), true, 200],
    ['101 header fields', () => get(bearer(admin), ...fillerHeaders(98)), false, 431],
    [
      'X-Forwarded-Host of another node past line 1000',
      () => get(bearer(nodeBound), ...fillerHeaders(998), 'X-Forwarded-Host: node-b.example'),
      false,
      431,
    ],
  ];

  it.each(cases)('%s', async (_name, head, laneAnswers, status) => {
    const { app, lane, laneServed } = await both(head());
    expect(app.status).toBe(status);
    expect(lane).toEqual(app);
    expect(laneServed).toBe(laneAnswers);
  });

  const both = (head: string[]) => r.both(head);

  it('an allow from the lane carries the identity headers, the security headers and CORS', async () => {
    const { lane, laneServed } = await both(get(bearer(scoped)));
    expect(laneServed).toBe(true);
    expect(lane.body).toBe('{"data":"","error":null}');
    expect(lane.headers['content-type']).toBe('application/json');
    expect(lane.headers['content-length']).toBe('24');
    expect(lane.headers['x-auth-user']).toMatch(/^[0-9a-f-]{36}$/);
    expect(lane.headers['x-auth-permissions']).toBe('context:list');
    expect(lane.headers['x-frame-options']).toBe('DENY');
    expect(lane.headers['access-control-allow-origin']).toBe('*');
    expect(lane.headers.vary).toBe('origin, access-control-request-method, access-control-request-headers');
  });

  it('a permission removed from the key is refused at once, by the app', async () => {
    const rootId = await adminKeyId(r.t);
    const clientId = await addClientKey(r.t, rootId, ['context:list']);
    const token = (await mintPair(r.t, { sub: clientId, permissions: ['context:list'] })).access;
    const head = get(bearer(token), 'X-Forwarded-Method: GET', 'X-Forwarded-Uri: /admin-api/contexts');
    expect((await both(head)).laneServed).toBe(true);
    await updateKey(r.t, clientId, { permissions: ['context:create'] });
    const after = await both(head);
    expect(after.laneServed).toBe(false);
    expect(after.lane).toEqual(after.app);
    expect(after.lane.headers['x-auth-error']).toBe('permission_denied');
  });

  it('a damaged session record: the lane leaves it to the app, the process keeps serving', async () => {
    const { access, sid } = await mintPair(r.t);
    expect((await both(get(bearer(access)))).laneServed).toBe(true);
    await r.t.svc.core.store.batch([{ type: 'put', key: `session:${sid}`, value: new TextEncoder().encode('null') }]);
    const after = await both(get(bearer(access)));
    expect(after.laneServed).toBe(false);
    expect(after.lane).toEqual(after.app);
    expect(after.app.status).toBe(401);
    expect((await both(get(bearer(admin)))).laneServed).toBe(true);
  });

  it('an access token past its expiry is the app’s to refuse (injected clock)', async () => {
    const { access } = await mintPair(r.t);
    expect((await both(get(bearer(access)))).laneServed).toBe(true);
    r.t.clock.advanceSeconds(r.t.svc.config.jwt.access_token_expiry + r.t.svc.config.jwt.leeway_seconds + 1);
    const after = await both(get(bearer(access)));
    expect(after.laneServed).toBe(false);
    expect(after.lane).toEqual(after.app);
    expect(after.app.headers['x-auth-error']).toBe('token_expired');
  });
});

describe('Validate lane: configurations', () => {
  it.each<[string, AuthConfigInput, string[]]>([
    [
      'explicit CORS, an allowed origin',
      { cors: { allow_all_origins: false, allowed_origins: ['https://app.example'] } },
      ['Origin: https://app.example'],
    ],
    [
      'explicit CORS, another origin',
      { cors: { allow_all_origins: false, allowed_origins: ['https://app.example'] } },
      ['Origin: https://evil.example'],
    ],
    ['explicit CORS, no origin', { cors: { allow_all_origins: false, allowed_origins: ['https://app.example'] } }, []],
    ['no CSP', { security: { headers: { csp: { enabled: false } } } }, []],
    ['no security headers', { security: { headers: { enabled: false } } }, []],
    [
      'permissions not enforced',
      { forward_auth: { enforce_permissions: false } },
      ['X-Forwarded-Method: POST', 'X-Forwarded-Uri: /admin-api/namespaces'],
    ],
  ])('%s: the lane answers as the app does', async (_name, config, extra) => {
    const r = await rig(config);
    try {
      const { access } = await r.t.login();
      const { app, lane, laneServed } = await r.both(get(bearer(access), ...extra));
      expect(app.status).toBe(200);
      expect(lane).toEqual(app);
      expect(laneServed).toBe(true);
    } finally {
      await r.close();
    }
  });

  it('Security: forwarded headers from a peer outside server.trusted_proxies are not believed, by the lane as by the app (issue 10 item 4)', async () => {
    // No trusted proxy at all: the loopback socket of this test is a direct client.
    const r = await rig({ server: { trusted_proxies: [] } });
    try {
      const bound = (await mintPair(r.t, { nodeUrl: 'http://node-a.example:2428' })).access;
      const rootId = await addUser(r.t, 'operator', 'operator-password');
      const clientId = await addClientKey(r.t, rootId, ['context:list']);
      const scoped = (await mintPair(r.t, { sub: clientId, permissions: ['context:list'] })).access;
      const direct = (...head: string[]) => ['GET /auth/validate HTTP/1.1', ...head];
      // [case, head, status, served by the lane]
      const cases: Array<[string, string[], number, boolean]> = [
        // The spoofed header would have let a node-a token through at node-b.
        [
          'a node-a token at Host node-b with X-Forwarded-Host: node-a',
          direct('Host: node-b.example', bearer(bound), 'X-Forwarded-Host: node-a.example'),
          403,
          false,
        ],
        [
          'a node-a token at Host node-a with X-Forwarded-Host: node-b',
          direct('Host: node-a.example', bearer(bound), 'X-Forwarded-Host: node-b.example'),
          200,
          true,
        ],
        // No token source but the header's own: no token at all.
        ['a token only in X-Forwarded-Uri', direct('Host: localhost', `X-Forwarded-Uri: /ws?token=${bound}`), 401, false],
        // No forwarded route: authentication only.
        [
          'a forwarded route the key lacks',
          direct('Host: localhost', bearer(scoped), 'X-Forwarded-Method: POST', 'X-Forwarded-Uri: /admin-api/namespaces'),
          200,
          true,
        ],
      ];
      for (const [name, head, status, served] of cases) {
        const { app, lane, laneServed } = await r.both(head);
        expect({ name, status: app.status, laneServed }).toEqual({ name, status, laneServed: served });
        expect(lane).toEqual(app);
      }
    } finally {
      await r.close();
    }
  });

  it('jwt.node_host: the configured host decides, not the request’s', async () => {
    const r = await rig({ jwt: { node_host: 'node-a.example' } });
    try {
      const bound = (await mintPair(r.t, { nodeUrl: 'http://node-a.example' })).access;
      const other = (await mintPair(r.t, { nodeUrl: 'http://node-b.example' })).access;
      const ok = await r.both(get(bearer(bound)));
      expect([ok.app.status, ok.laneServed]).toEqual([200, true]);
      expect(ok.lane).toEqual(ok.app);
      const refused = await r.both(get(bearer(other)));
      expect([refused.app.status, refused.laneServed]).toEqual([403, false]);
      expect(refused.lane).toEqual(refused.app);
    } finally {
      await r.close();
    }
  });

  it('counts its answers like the app: the validate decision and the HTTP request metrics', async () => {
    const r = await rig({ metrics: { listen_addr: '127.0.0.1:0' } });
    const prometheus = r.t.svc.core.metrics.prometheus;
    if (!prometheus) throw new Error('prometheus metrics are off');
    const scrape = async () => parseExposition(await (await createMetricsApp(prometheus).request('/metrics')).text()).samples;
    try {
      const { access } = await r.t.login();
      await r.both(get(bearer(access))); // warm: one answer from each listener
      const before = await scrape();
      for (let i = 0; i < 3; i++) expect((await r.both(get(bearer(access)))).laneServed).toBe(true);
      const after = await scrape();
      const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
      // Three from the app alone, three from the lane.
      expect(delta('mero_auth_http_requests_total{method="GET",route="/auth/validate",status="200"}')).toBe(6);
      expect(delta('mero_auth_http_request_duration_seconds_count{method="GET",route="/auth/validate"}')).toBe(6);
      expect(delta('mero_auth_validate_decisions_total{decision="allow"}')).toBe(6);
    } finally {
      await r.close();
    }
  });
});
