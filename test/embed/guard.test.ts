/**
 * The embedded guard (wire §5.13, §9 "Embedded node", permissions.md §8.6): the answers of the
 * Rust node's guard on a node's own routes, in process through `app.request()`.
 */
import { Hono } from 'hono';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, type AuthIdentity, type GuardEnv } from '../../src/http/guard.js';
import { nowSeconds } from '../../src/util/clock.js';
import { addClientKey, adminKeyId, claimsFor, forgeForeign, mintPair, updateKey } from '../helpers/http.js';
import { ADMIN, makeTestService, type TestService } from '../helpers/service.js';
import { expectBare } from './clients.js';

let t: TestService;
let node: Hono<GuardEnv>;
let rootId: string;
let root: { access: string; refresh: string };

/** What a handler behind the guard saw, keyed by a per-request marker. */
const seen: Array<AuthIdentity | undefined> = [];

/** A node with the routes the guard protects; every handler records `c.get('auth')`. */
function makeNode(s: TestService, options?: Parameters<typeof createGuard>[1]): Hono<GuardEnv> {
  const app = new Hono<GuardEnv>();
  const guard = createGuard(s.svc.core, options);
  app.use('/admin-api/*', guard);
  app.use('/jsonrpc', guard);
  app.use('/ws', guard);
  app.use('/sse', guard);
  app.use('/sse/*', guard);
  const record = (c: { get(k: 'auth'): AuthIdentity }) => {
    seen.push(c.get('auth'));
    return new Response('node', { status: 200 });
  };
  app.on(['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'], '/admin-api/*', record);
  app.on(['GET', 'POST', 'OPTIONS'], '/jsonrpc', record);
  app.get('/ws', record);
  app.get('/sse', record);
  app.post('/sse/subscription', record);
  return app;
}

/** Anything with Hono's `request()`. */
interface Requestable {
  request(input: string, init?: RequestInit): Response | Promise<Response>;
}

function call(path: string, init: RequestInit = {}, app: Requestable = node): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('host')) headers.set('host', 'localhost:2428');
  return Promise.resolve(app.request(`http://localhost:2428${path}`, { ...init, headers }));
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function clientToken(
  permissions: string[],
  s = t,
  parent = rootId,
): Promise<{ access: string; refresh: string; id: string; sid: string }> {
  const id = await addClientKey(s, parent, permissions);
  const pair = await mintPair(s, { sub: id, permissions });
  return { ...pair, id };
}

beforeAll(async () => {
  t = await makeTestService();
  node = makeNode(t);
  rootId = await adminKeyId(t);
  root = await t.login();
});
afterAll(() => t.close());

describe('Embedded guard: credentials (§5.13 steps 1–4)', () => {
  it('no Authorization and no ?token= → 401 with an empty body and no X-Auth-Error (the Python client probe)', async () => {
    const res = await call('/admin-api/contexts');
    expect(res.headers.get('content-type')).toBeNull();
    expect(res.headers.get('content-length')).toBe('0');
    await expectBare(res, 401, null);
  });

  it('OPTIONS passes untouched, with or without preflight headers and without a token', async () => {
    seen.length = 0;
    expect((await call('/admin-api/contexts', { method: 'OPTIONS' })).status).toBe(200);
    const preflight = await call('/jsonrpc', {
      method: 'OPTIONS',
      headers: { origin: 'http://app.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(200);
    expect(seen).toEqual([undefined, undefined]);
  });

  it('a valid Authorization header passes; the handler gets the identity', async () => {
    seen.length = 0;
    const res = await call('/admin-api/contexts', { headers: bearer(root.access) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('node');
    const sid = (JSON.parse(Buffer.from(root.access.split('.')[1] ?? '', 'base64url').toString()) as { sid: string }).sid;
    expect(seen).toEqual([{ keyId: rootId, sid, permissions: ['admin'], publicKey: ADMIN.username }]);
  });

  it('without a header, the first token= of the raw query string is the credential (WebSocket and SSE clients)', async () => {
    expect((await call(`/ws?token=${root.access}`)).status).toBe(200);
    expect((await call(`/sse?x=1&token=${root.access}&token=garbage`)).status).toBe(200);
  });

  it('the query token is not URL-decoded, and access_token= is not a token', async () => {
    await expectBare(await call(`/ws?token=${root.access.replace(/\./g, '%2E')}`), 401, null);
    await expectBare(await call(`/ws?access_token=${root.access}`), 401, null);
    await expectBare(await call('/ws?token='), 401, null);
  });

  it('the header is the only credential when present: a bad or revoked header is not rescued by ?token=', async () => {
    await expectBare(await call(`/ws?token=${root.access}`, { headers: { authorization: 'Basic YWRtaW46eA==' } }), 401, null);
    await expectBare(await call(`/ws?token=${root.access}`, { headers: { authorization: 'Bearer ' } }), 401, null);
    await expectBare(await call(`/ws?token=${root.access}`, { headers: { authorization: '' } }), 401, null);
    const revoked = await clientToken(['context:list']);
    await updateKey(t, revoked.id, { revoked_at: nowSeconds(t.clock) });
    await expectBare(await call(`/ws?token=${root.access}`, { headers: bearer(revoked.access) }), 403, 'token_revoked');
  });

  it('"Bearer Bearer <token>" is accepted, as the bearer check strips every leading "Bearer "', async () => {
    expect((await call('/admin-api/contexts', { headers: { authorization: `Bearer Bearer ${root.access}` } })).status).toBe(200);
  });
});

describe('Embedded guard: token failures (§5.13 step 5)', () => {
  it('an expired token → 401 token_expired, from the header and from the query', async () => {
    const s = await makeTestService({ jwt: { leeway_seconds: 0 } });
    try {
      const app = makeNode(s);
      const { access } = await s.login();
      expect((await call('/admin-api/contexts', { headers: bearer(access) }, app)).status).toBe(200);
      s.clock.advanceSeconds(s.svc.config.jwt.access_token_expiry + 1);
      await expectBare(await call('/admin-api/contexts', { headers: bearer(access) }, app), 401, 'token_expired');
      await expectBare(await call(`/ws?token=${access}`, {}, app), 401, 'token_expired');
    } finally {
      await s.close();
    }
  });

  it('a revoked key → 403 token_revoked, from the header and from the query', async () => {
    const c = await clientToken(['context:list']);
    await updateKey(t, c.id, { revoked_at: nowSeconds(t.clock) });
    await expectBare(await call('/admin-api/contexts', { headers: bearer(c.access) }), 403, 'token_revoked');
    await expectBare(await call(`/ws?token=${c.access}`), 403, 'token_revoked');
  });

  it("a revoked session (logout) → 403 token_revoked; the key's other sessions still pass", async () => {
    const mine = await t.login();
    const other = await t.login();
    expect((await t.post('/auth/logout', { refresh_token: mine.refresh })).status).toBe(200);
    await expectBare(await call('/admin-api/contexts', { headers: bearer(mine.access) }), 403, 'token_revoked');
    expect((await call('/admin-api/contexts', { headers: bearer(other.access) })).status).toBe(200);
  });

  it.each<[string, () => Promise<string>]>([
    ['garbage', async () => 'not-a-jwt'],
    ['a refresh token', async () => root.refresh],
    ['a foreign signature', async () => forgeForeign(claimsFor(t, { sub: rootId }))],
    ['an unknown key', async () => (await mintPair(t, { sub: 'f'.repeat(64) })).access],
    ['an unknown session', async () => (await mintPair(t, { session: false })).access],
    ['a token for another node', async () => (await mintPair(t, { nodeUrl: 'https://node-b.example' })).access],
  ])('%s → bare 401 (no X-Auth-Error), from the header and from the query', async (_what, make) => {
    const token = await make();
    await expectBare(await call('/admin-api/contexts', { headers: bearer(token) }), 401, null);
    await expectBare(await call(`/ws?token=${token}`), 401, null);
  });

  it('an expired key → bare 401', async () => {
    const c = await clientToken(['context:list']);
    await updateKey(t, c.id, { expires_at: nowSeconds(t.clock) });
    await expectBare(await call('/admin-api/contexts', { headers: bearer(c.access) }), 401, null);
  });

  it('node binding: a token for this node passes with its Host; X-Forwarded-Host counts only from a trusted proxy, as on /auth/validate', async () => {
    const bound = await mintPair(t, { nodeUrl: 'http://node-a.example:2428' });
    expect(
      (await call('/admin-api/contexts', { headers: { ...bearer(bound.access), host: 'node-a.example:2428' } })).status,
    ).toBe(200);
    await expectBare(
      await call('/admin-api/contexts', { headers: { ...bearer(bound.access), host: 'node-b.example' } }),
      401,
      null,
    );
    const spoofed = { headers: { ...bearer(bound.access), host: 'node-b.example', 'x-forwarded-host': 'node-a.example' } };
    // A client the host cannot place (no socket) or a direct one: its X-Forwarded-Host is not believed.
    await expectBare(await call('/admin-api/contexts', spoofed), 401, null);
    const url = 'http://localhost:2428/admin-api/contexts';
    const from = (ip: string) => ({ incoming: { socket: { remoteAddress: ip } } });
    await expectBare(await node.request(url, spoofed, from('198.51.100.9')), 401, null);
    // The proxy on loopback (the default server.trusted_proxies) is believed.
    expect((await node.request(url, spoofed, from('127.0.0.1'))).status).toBe(200);
  });

  it('adds no X-Auth-User / X-Auth-Permissions headers, on success or failure', async () => {
    for (const res of [await call('/admin-api/contexts', { headers: bearer(root.access) }), await call('/admin-api/contexts')]) {
      expect(res.headers.get('x-auth-user')).toBeNull();
      expect(res.headers.get('x-auth-permissions')).toBeNull();
    }
  });
});

describe('Embedded guard: the route table on the full path (§5.13 step 6)', () => {
  let scoped: { access: string; id: string; sid: string };
  beforeAll(async () => {
    scoped = await clientToken(['context:list']);
  });

  it.each([
    ['GET', '/admin-api/contexts', 200],
    ['POST', '/admin-api/namespaces', 403],
    ['POST', '/jsonrpc', 403],
    ['POST', '/admin-api/contexts', 403],
    ['GET', '/admin-api/usage', 403], // unmapped /admin-api/* requires admin (default deny)
    ['GET', '/ws', 200], // /ws and /sse require nothing
    ['GET', '/sse', 200],
    ['POST', '/sse/subscription', 200],
  ])('a [context:list] client token: %s %s → %i', async (method, path, status) => {
    const res = await call(path, { method, headers: bearer(scoped.access) });
    if (status === 200) expect(res.status).toBe(200);
    else await expectBare(res, 403, 'permission_denied');
  });

  it('the handler sees the client key: its id, its session, its effective permissions and no public key', async () => {
    seen.length = 0;
    expect((await call('/admin-api/contexts', { headers: bearer(scoped.access) })).status).toBe(200);
    expect(seen).toEqual([{ keyId: scoped.id, sid: scoped.sid, permissions: ['context:list'], publicKey: null }]);
  });

  it('effective permissions: a permission removed from the key stops working at once', async () => {
    const c = await clientToken(['context:list', 'context:execute']);
    expect((await call('/jsonrpc', { method: 'POST', headers: bearer(c.access) })).status).toBe(200);
    await updateKey(t, c.id, { permissions: ['context:list'] });
    await expectBare(await call('/jsonrpc', { method: 'POST', headers: bearer(c.access) }), 403, 'permission_denied');
    seen.length = 0;
    expect((await call('/admin-api/contexts', { headers: bearer(c.access) })).status).toBe(200);
    expect(seen[0]?.permissions).toEqual(['context:list']);
  });

  it('Security: a refusal is logged once at warn: key prefix, method, raw path, the missing permission, never the token (issue 10 item 6)', async () => {
    const c = await clientToken(['context:list']);
    const lines: Array<Record<string, unknown>> = [];
    const core = t.svc.core as { log: typeof t.svc.core.log };
    const original = core.log;
    core.log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    try {
      await expectBare(await call('/jsonrpc', { method: 'POST', headers: bearer(c.access) }), 403, 'permission_denied');
      expect((await call('/admin-api/contexts', { headers: bearer(c.access) })).status).toBe(200);
    } finally {
      core.log = original;
    }
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'authorisation refused',
        status: 403,
        key: `${c.id.slice(0, 8)}…`,
        method: 'POST',
        path: '/jsonrpc',
        missing: ['context:execute'],
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain(c.access);
  });

  it('a percent-encoded spelling of a guarded path cannot skip its requirement (Hono routes on the decoded path)', async () => {
    const none = await clientToken([]);
    expect((await call('/admin-api/contexts', { headers: bearer(none.access) })).status).toBe(403);
    // The raw path names no table row, but Hono hands it to the /admin-api/contexts handler.
    await expectBare(await call('/%61dmin-api/contexts', { headers: bearer(none.access) }), 403, 'permission_denied');
    await expectBare(await call('/admin-api/context%73', { headers: bearer(none.access) }), 403, 'permission_denied');
    // An admin token passes the same spelling: both paths require context:list, which admin covers.
    expect((await call('/%61dmin-api/contexts', { headers: bearer(root.access) })).status).toBe(200);
  });

  it('whatever the host router matches on: a trailing slash under strict: false, a raw-path router, a malformed escape', async () => {
    const none = await clientToken([]);
    // strict: false routes "/jsonrpc/" to the /jsonrpc handler; the table sees no row for it.
    const loose = new Hono<GuardEnv>({ strict: false });
    loose.use('/jsonrpc', createGuard(t.svc.core));
    loose.post('/jsonrpc', (c) => c.text('rpc'));
    await expectBare(await call('/jsonrpc/', { method: 'POST', headers: bearer(none.access) }, loose), 403, 'permission_denied');
    // A router on the raw path: the decoded spelling is still checked.
    const raw = new Hono<GuardEnv>({ getPath: (req) => new URL(req.url).pathname });
    raw.use('*', createGuard(t.svc.core));
    raw.get('*', (c) => c.text('node'));
    await expectBare(await call('/%61dmin-api/contexts', { headers: bearer(none.access) }, raw), 403, 'permission_denied');
    expect((await call('/%61dmin-api/contexts', { headers: bearer(root.access) }, raw)).status).toBe(200);
    // A percent sign that does not decode is refused rather than guessed at.
    await expectBare(await call('/admin-api/contexts/%E0%A4%A', { headers: bearer(root.access) }, raw), 403, 'permission_denied');
  });

  it('encoded slashes, encoded backslashes and "//" are refused, never normalised into an allowed route (permissions.md §12)', async () => {
    // (Dot segments, "%2E%2E" included, are resolved by the URL parser before any router sees them.)
    for (const path of ['/admin-api/contexts%2Fx', '/admin-api/contexts%5Cx', '/admin-api//contexts']) {
      await expectBare(await call(path, { headers: bearer(root.access) }), 403, 'permission_denied');
    }
  });

  it('guard({ permissions: false }) authenticates but leaves authorisation to the route', async () => {
    const open = makeNode(t, { permissions: false });
    expect((await call('/admin-api/namespaces', { method: 'POST', headers: bearer(scoped.access) }, open)).status).toBe(200);
    await expectBare(await call('/admin-api/namespaces', { method: 'POST' }, open), 401, null);
  });
});

describe('Embedded guard: types (compile-time)', () => {
  it('mounts on a plain Hono app and on one typed with GuardEnv; c.get("auth") is typed', async () => {
    const plain = new Hono();
    plain.use('/admin-api/*', createGuard(t.svc.core));
    plain.get('/admin-api/contexts', (c) => c.text('ok'));
    const typed = new Hono<GuardEnv>();
    typed.use('/admin-api/*', createGuard(t.svc.core));
    typed.get('/admin-api/contexts', (c) => {
      const id: AuthIdentity = c.get('auth');
      const key: string = id.keyId;
      const pk: string | null = id.publicKey;
      return c.json({ key, pk, n: id.permissions.length });
    });
    expect((await call('/admin-api/contexts', { headers: bearer(root.access) }, plain)).status).toBe(200);
    const res = await call('/admin-api/contexts', { headers: bearer(root.access) }, typed);
    expect(await res.json()).toEqual({ key: rootId, pk: ADMIN.username, n: 1 });
  });
});
