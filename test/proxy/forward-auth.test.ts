/**
 * Proxy mode with real proxies (issue 4 acceptance, "Proxy"): nginx (auth_request) and Caddy
 * (forward_auth), each run from the checked-in config under deploy/, in front of the standalone
 * mero-auth process (this run's build) and the reference node in `--auth-mode proxy` (no guard:
 * every decision below is /auth/validate's, relayed by the proxy).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, freePort, logMessage } from '../e2e/process.js';
import {
  ADMIN,
  bearer,
  expectValidateError,
  login,
  mintClient,
  openWs,
  revokeKey,
  rpc,
  SseStream,
  sseSubscribe,
  wsSubscribe,
  type Pair,
} from '../embed/clients.js';
import { Child, ensureProxies, onFreePort, ROOT, startProxy, stopAll, type ProxyKind } from './harness.js';

let dir: string;
let auth: CliProcess;
let authPort: number;
let nodePort: number;
let binaries: Record<ProxyKind, string>;

beforeAll(async () => {
  binaries = ensureProxies();
  dir = await mkdtemp(join(tmpdir(), 'mero-auth-proxy-'));

  // The standalone service (this run's build), on a memory store with fast argon2.
  [auth, authPort] = await onFreePort(async (port) => {
    const proc = new CliProcess({
      cwd: dir,
      args: ['--bind', `127.0.0.1:${port}`],
      env: {
        AUTH__STORAGE__TYPE: 'memory',
        AUTH__USER_PASSWORD__ARGON2__MEMORY_KIB: '7168',
        AUTH__USER_PASSWORD__ARGON2__ITERATIONS: '5',
        AUTH__SERVER__TRUSTED_PROXIES: '["127.0.0.1"]',
        MERO_AUTH_ADMIN_USER: ADMIN.username,
        MERO_AUTH_ADMIN_PASSWORD: ADMIN.password,
      },
    });
    const expected = `listening on 127.0.0.1:${port}`;
    try {
      await proc.waitForLine((line) => logMessage(line) === expected, `'${expected}'`);
    } catch (e) {
      await proc.kill9();
      throw e;
    }
    return [proc, port] as const;
  }, freePort);

  // The reference node without a guard (examples/node-server/server.js --auth-mode proxy).
  nodePort = await onFreePort(async (port) => {
    const node = new Child(
      'node',
      process.execPath,
      [join(ROOT, 'examples', 'node-server', 'server.js'), '--auth-mode', 'proxy', '--port', String(port)],
      {
        cwd: dir,
      },
    );
    try {
      await node.waitForLine(
        (line) => line === `node listening on http://127.0.0.1:${port} (auth-mode proxy)`,
        'the node listening',
      );
    } catch (e) {
      node.kill();
      throw e;
    }
    return port;
  }, freePort);
}, 330_000); // installing nginx and caddy, when they are missing, takes a while

afterAll(async () => {
  await stopAll();
  await auth?.stop().catch(() => auth.kill9());
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.each<ProxyKind>(['nginx', 'caddy'])('%s in front of the node (proxy mode) and mero-auth', (kind) => {
  let proxy: Child;
  let base: string;
  let root: Pair;
  let reader: Pair & { keyId: string }; // [context:list]
  let executor: Pair & { keyId: string }; // [context:list, context:execute]

  beforeAll(async () => {
    let port = 0;
    proxy = await onFreePort(async (p) => {
      port = p;
      return startProxy(kind, binaries[kind], join(dir, `${kind}-${p}`), p, { authPort, nodePort });
    }, freePort);
    base = `http://127.0.0.1:${port}`;
    // Logging in and minting client keys go through the proxy to mero-auth's own routes.
    root = await login(base);
    reader = await mintClient(base, root.access, ['context:list']);
    executor = await mintClient(base, root.access, ['context:list', 'context:execute']);
  });
  afterAll(() => proxy?.stop());

  it("no token → 401 missing_token with mero-auth's envelope, on every guarded route (the Python client probe)", async () => {
    for (const [method, path] of [
      ['GET', '/admin-api/contexts'],
      ['POST', '/jsonrpc'],
      ['GET', '/sse'],
      ['PUT', '/admin-api/blobs'],
    ]) {
      await expectValidateError(await fetch(`${base}${path}`, { method }), 401, 'missing_token', 'No token provided');
    }
    const head = await fetch(`${base}/admin-api/contexts`, { method: 'HEAD' });
    expect([head.status, head.headers.get('x-auth-error')]).toEqual([401, 'missing_token']);
  });

  it("a refusal keeps mero-auth's CORS headers, so a browser can read X-Auth-Error", async () => {
    const res = await fetch(`${base}/admin-api/contexts`, { headers: { origin: 'http://app.example' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toBe('*');
  });

  it('a malformed token → 401 invalid_token', async () => {
    await expectValidateError(
      await fetch(`${base}/admin-api/contexts`, { headers: bearer('not-a-jwt') }),
      401,
      'invalid_token',
      /^Invalid token: /,
    );
  });

  it('permission decisions come from /auth/validate: [context:list] reads the contexts and is 403 permission_denied elsewhere', async () => {
    const list = await fetch(`${base}/admin-api/contexts`, { headers: bearer(reader.access) });
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ data: { contexts: expect.any(Array) } }); // the node answered
    await expectValidateError(
      await fetch(`${base}/admin-api/namespaces`, { method: 'POST', headers: bearer(reader.access) }),
      403,
      'permission_denied',
      'Permission denied',
    );
    await expectValidateError(await rpc(base, reader.access, 'query'), 403, 'permission_denied', 'Permission denied');
    await expectValidateError(
      await fetch(`${base}/admin-api/blobs`, { method: 'PUT', headers: bearer(reader.access) }),
      403,
      'permission_denied',
      'Permission denied',
    );
    await expectValidateError(
      await fetch(`${base}/admin-api/usage`, { headers: bearer(reader.access) }),
      403,
      'permission_denied',
      'Permission denied',
    );
    // An admin token goes everywhere.
    expect((await fetch(`${base}/admin-api/namespaces`, { method: 'POST', headers: bearer(root.access) })).status).toBe(200);
  });

  it('a client-sent X-Forwarded-Method / X-Forwarded-Uri cannot turn a denied request into an allowed one', async () => {
    const spoofs: Array<Record<string, string>> = [
      { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/admin-api/contexts' },
      { 'x-forwarded-uri': '/ws' }, // a route that requires nothing
      { 'x-forwarded-method': 'OPTIONS' },
    ];
    for (const spoof of spoofs) {
      const res = await fetch(`${base}/admin-api/namespaces`, {
        method: 'POST',
        headers: { ...bearer(reader.access), ...spoof },
      });
      await expectValidateError(res, 403, 'permission_denied', 'Permission denied');
    }
    // Nor can a token be smuggled in through a forged X-Forwarded-Uri query.
    const smuggled = await fetch(`${base}/admin-api/contexts`, {
      headers: { 'x-forwarded-uri': `/admin-api/contexts?token=${reader.access}` },
    });
    await expectValidateError(smuggled, 401, 'missing_token', 'No token provided');
  });

  it('a client-sent X-Forwarded-Host does not reach the node-binding check (the proxy sets it)', async () => {
    // The root token is bound to this proxy's host; a forged host would make it fail (403 invalid_node).
    const res = await fetch(`${base}/admin-api/contexts`, {
      headers: { ...bearer(root.access), 'x-forwarded-host': 'evil.example' },
    });
    expect(res.status).toBe(200);
  });

  it("the node sees the identity mero-auth vouched for, never the client's X-Auth-User / X-Auth-Permissions", async () => {
    const res = await rpc(base, executor.access, 'query', {}, { 'x-auth-user': subOfRoot(), 'x-auth-permissions': 'admin' });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { result: { identity: unknown } };
    expect(json.result.identity).toEqual({ keyId: executor.keyId, permissions: ['context:list', 'context:execute'] });
    // Unguarded routes never receive a client-sent identity either (nothing to observe there
    // beyond the answer itself; the configs strip both headers on those routes too).
    expect((await fetch(`${base}/admin-api/health`, { headers: { 'x-auth-user': 'spoof' } })).status).toBe(200);
  });

  it('unguarded routes and CORS preflights reach the node without a token', async () => {
    expect(await (await fetch(`${base}/admin-api/health`)).json()).toEqual({ data: { status: 'alive' } });
    expect((await fetch(`${base}/admin-api/is-authed`)).status).toBe(200);
    const preflight = await fetch(`${base}/jsonrpc`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
  });

  it("mero-auth's own routes pass through: the HEAD /auth/validate session probe and /admin/*", async () => {
    const probe = await fetch(`${base}/auth/validate`, { method: 'HEAD', headers: bearer(reader.access) });
    expect([probe.status, probe.headers.get('x-auth-user')]).toEqual([200, reader.keyId]);
    const identity = await fetch(`${base}/admin/identity`, { headers: bearer(root.access) });
    expect(identity.status).toBe(200);
  });

  it('a revoked key → 403 token_revoked', async () => {
    const doomed = await mintClient(base, root.access, ['context:list']);
    expect((await fetch(`${base}/admin-api/contexts`, { headers: bearer(doomed.access) })).status).toBe(200);
    await revokeKey(base, root.access, doomed.keyId);
    await expectValidateError(
      await fetch(`${base}/admin-api/contexts`, { headers: bearer(doomed.access) }),
      403,
      'token_revoked',
      'Key has been revoked',
    );
  });

  it('a WebSocket authenticates with ?token= (X-Forwarded-Uri carries it) and gets the events it subscribed to; without it → 401', async () => {
    const wsBase = base.replace('http', 'ws');
    const refused = await openWs(`${wsBase}/ws`);
    expect(refused.open).toBe(false);
    if (!refused.open) expect([refused.status, refused.headers['x-auth-error']]).toEqual([401, 'missing_token']);
    const forged = await openWs(`${wsBase}/ws?token=forged`);
    expect(forged.open).toBe(false);
    if (!forged.open) expect([forged.status, forged.headers['x-auth-error']]).toEqual([401, 'invalid_token']);

    const ok = await openWs(`${wsBase}/ws?token=${encodeURIComponent(reader.access)}`);
    expect(ok.open).toBe(true);
    if (!ok.open) return;
    try {
      expect(await wsSubscribe(ok.ws, ok.messages, [`ctx-${kind}`])).toEqual({ id: 7, result: { contextIds: [`ctx-${kind}`] } });
      await rpc(base, executor.access, 'mutate', { contextId: `ctx-${kind}`, data: kind });
      expect(await ok.messages.next()).toEqual({
        id: null,
        result: { contextId: `ctx-${kind}`, type: 'StateMutation', data: kind },
      });
    } finally {
      ok.ws.close();
    }
  });

  it('SSE through the proxy: "connect", then an event for a subscribed context', async () => {
    const sse = await SseStream.open(`${base}/sse`, bearer(reader.access));
    try {
      expect(sse.response.status).toBe(200);
      const connect = await sse.next();
      expect(connect.event).toBe('connect');
      expect((await sseSubscribe(base, bearer(reader.access), connect.data, [`sse-${kind}`])).status).toBe(200);
      await rpc(base, executor.access, 'mutate', { contextId: `sse-${kind}`, data: 1 });
      const ev = await sse.next();
      expect([ev.event, JSON.parse(ev.data)]).toEqual(['message', { contextId: `sse-${kind}`, type: 'StateMutation', data: 1 }]);
    } finally {
      sse.close();
    }
  });

  it('another spelling of a path cannot reach a route the token may not call', async () => {
    const none = await mintClient(base, root.access, []);
    await expectValidateError(
      await fetch(`${base}/admin-api/contexts`, { headers: bearer(none.access) }),
      403,
      'permission_denied',
      'Permission denied',
    );
    // mero-auth sees no table row for the raw path; the node refuses a path that decoding changes.
    expect((await fetch(`${base}/%61dmin-api/contexts`, { headers: bearer(none.access) })).status).toBe(404);
    // An encoded slash is refused by mero-auth (permissions.md §12).
    await expectValidateError(
      await fetch(`${base}/admin-api/contexts%2F..%2Fusage`, { headers: bearer(none.access) }),
      403,
      'permission_denied',
      'Permission denied',
    );
  });

  /** The root key id, for spoofing attempts. */
  function subOfRoot(): string {
    return JSON.parse(Buffer.from(root.access.split('.')[1] ?? '', 'base64url').toString()).sub as string;
  }
});
