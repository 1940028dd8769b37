/**
 * The in-process API (issue 4, wire §7.6): `createAuth(config)` → `{app, guard, fetch, config,
 * metricsAddress, close}`, exported from the package root.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  createAuth,
  isConfigError,
  StorageLockedError,
  type Auth,
  type AuthConfigInput,
  type CreateAuthOptions,
  type GuardEnv,
} from '../../src/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { ADMIN, FAST_ARGON2 } from './clients.js';

const silent = pino({ level: 'silent' });
const ADMIN_ENV = { MERO_AUTH_ADMIN_USER: ADMIN.username, MERO_AUTH_ADMIN_PASSWORD: ADMIN.password };
const dirs: string[] = [];
const open: Auth[] = [];
afterAll(async () => {
  await Promise.all(open.map((a) => a.close()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function dataDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mero-auth-embed-'));
  dirs.push(d);
  return d;
}

/** createAuth with fast argon2 and a silent logger; closed after the file. */
async function start(config: AuthConfigInput = {}, options: CreateAuthOptions = {}): Promise<Auth> {
  const auth = await createAuth(
    { storage: { type: 'memory' }, ...config, user_password: { argon2: FAST_ARGON2, ...config.user_password } },
    { logger: silent, env: {}, ...options },
  );
  open.push(auth);
  return auth;
}

function loginRequest(base = 'http://node.local'): Request {
  return new Request(`${base}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', host: 'node.local' },
    body: JSON.stringify({
      auth_method: 'user_password',
      public_key: ADMIN.username,
      client_name: 'mero-js-sdk',
      timestamp: 0,
      permissions: ['admin'],
      provider_data: { username: ADMIN.username, password: ADMIN.password },
    }),
  });
}

async function loginVia(
  fetcher: (r: Request) => Promise<Response> | Response,
): Promise<{ access: string; refresh: string; status: number }> {
  const res = await fetcher(loginRequest());
  const json = (await res.json()) as { data: { access_token: string; refresh_token: string } | null };
  return { access: json.data?.access_token ?? '', refresh: json.data?.refresh_token ?? '', status: res.status };
}

const validate = (auth: Auth, token: string) =>
  auth.fetch(
    new Request('http://node.local/auth/validate', { headers: { authorization: `Bearer ${token}`, host: 'node.local' } }),
  );

describe('createAuth: configuration (wire §7.6)', () => {
  it('missing keys take the embedded defaults, not the standalone ones', async () => {
    const auth = await start();
    const c = auth.config;
    expect(c.jwt.access_token_expiry).toBe(3600);
    expect(c.cors.allow_all_origins).toBe(false);
    expect(c.cors.allowed_headers).toEqual(['Authorization', 'Content-Type', 'Accept']);
    expect(c.cors.exposed_headers).toEqual([]);
    expect(c.storage.path).toBe('auth');
    expect(c.metrics.listen_addr).toBeUndefined();
    expect(auth.metricsAddress).toBeUndefined();
    // Shared defaults are the standalone ones.
    expect(c.jwt.refresh_token_expiry).toBe(2_592_000);
    expect(c.forward_auth.enforce_permissions).toBe(true);
  });

  it('takes the nested snake_case object the TOML file loads into; "rocksdb" is an alias of level', async () => {
    const dir = await dataDir();
    const auth = await start({
      jwt: { access_token_expiry: 900, issuer: 'my-node' },
      storage: { type: 'rocksdb', path: join(dir, 'auth') },
    });
    expect(auth.config.jwt.access_token_expiry).toBe(900);
    expect(auth.config.jwt.issuer).toBe('my-node');
    expect((await auth.fetch(new Request('http://x/auth/ready'))).status).toBe(200);
  });

  it('an invalid configuration rejects with a ConfigError listing every problem, and never exits the process', async () => {
    const err = await createAuth(
      {
        storage: { type: 'memory' },
        // @ts-expect-error -- a wrong type on purpose
        jwt: { access_token_expiry: 'soon' },
        cors: { allowed_origins: ['example.com'] },
        user_password: { argon2: { memory_kib: 1, iterations: 1 } },
      },
      { logger: silent, env: {} },
    ).catch((e: unknown) => e);
    expect(isConfigError(err)).toBe(true);
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems.length).toBeGreaterThanOrEqual(3);
    for (const p of problems) expect(p).toMatch(/^invalid configuration: .+ \(from createAuth\): /);
    expect(problems.join('\n')).toContain('jwt.access_token_expiry');
    expect(problems.join('\n')).toContain('cors.allowed_origins[0]');
  });

  it('reads no AUTH__* variables (the host owns its configuration)', async () => {
    const auth = await start({}, { env: { AUTH__JWT__ACCESS_TOKEN_EXPIRY: '5', AUTH__STORAGE__TYPE: 'level' } });
    expect(auth.config.jwt.access_token_expiry).toBe(3600);
    expect(auth.config.storage.type).toBe('memory');
  });

  it('unknown keys are warnings on the given logger, not errors', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    await start({ account_proof: { enabled: true } } as AuthConfigInput, { logger });
    expect(lines.join('')).toContain('account_proof');
  });
});

describe('createAuth: provisioning from MERO_AUTH_ADMIN_* (wire §7.1)', () => {
  it('provisions the first admin before it resolves; login works through auth.fetch', async () => {
    const auth = await start({}, { env: ADMIN_ENV });
    const pair = await loginVia(auth.fetch);
    expect(pair.status).toBe(200);
    expect((await validate(auth, pair.access)).status).toBe(200);
  });

  it('a bad combination rejects with a ConfigError, and leaves the store closed (it opens again)', async () => {
    const path = join(await dataDir(), 'auth');
    const err = await createAuth(
      { storage: { type: 'level', path }, user_password: { argon2: FAST_ARGON2 } },
      { logger: silent, env: { MERO_AUTH_ADMIN_USER: 'admin' } },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'invalid configuration: environment: MERO_AUTH_ADMIN_USER is set but no password was provided; set MERO_AUTH_ADMIN_PASSWORD or MERO_AUTH_ADMIN_PASSWORD_FILE',
    ]);
    const again = await start({ storage: { type: 'level', path } });
    expect((await again.fetch(new Request('http://x/auth/ready'))).status).toBe(200);
  });
});

describe('createAuth: instances and stores (wire §7.6)', () => {
  it('two instances on the same level path: the second rejects with the lock error; after close it opens and keeps the data', async () => {
    const path = join(await dataDir(), 'auth');
    const first = await start({ storage: { type: 'level', path } }, { env: ADMIN_ENV });
    const { access } = await loginVia(first.fetch);
    const err = await createAuth({ storage: { type: 'level', path } }, { logger: silent, env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageLockedError);
    await first.close();
    const second = await start({ storage: { type: 'level', path } });
    // Same secrets, same account, same session: the earlier token is still good.
    expect((await validate(second, access)).status).toBe(200);
  });

  it('two instances on different stores share nothing: accounts, secrets, revocations, counters', async () => {
    const a = await start({}, { env: ADMIN_ENV });
    const b = await start({}, { env: { ...ADMIN_ENV, MERO_AUTH_ADMIN_PASSWORD: 'another long password' } });
    const tokenA = await loginVia(a.fetch);
    const tokenB = await loginVia(b.fetch);
    expect(tokenA.status).toBe(200);
    expect(tokenB.status).toBe(401); // B's admin has another password
    // A's token means nothing to B (other signing secret).
    const onB = await validate(b, tokenA.access);
    expect([onB.status, onB.headers.get('x-auth-error')]).toEqual([401, 'invalid_token']);
    // Logging out on A leaves nothing behind on B; counters are per instance.
    const metrics = async (auth: Auth, token: string) =>
      (
        (await (
          await auth.fetch(
            new Request('http://node.local/admin/metrics', { headers: { authorization: `Bearer ${token}`, host: 'node.local' } }),
          )
        ).json()) as {
          data: { auth_attempts: number };
        }
      ).data.auth_attempts;
    expect(await metrics(a, tokenA.access)).toBe(1);
    const bAdmin = await b.fetch(
      new Request('http://node.local/auth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          auth_method: 'user_password',
          public_key: ADMIN.username,
          client_name: 'x',
          timestamp: 0,
          provider_data: { username: ADMIN.username, password: 'another long password' },
        }),
      }),
    );
    const bToken = ((await bAdmin.json()) as { data: { access_token: string } }).data.access_token;
    expect(await metrics(b, bToken)).toBe(2); // one failure, one success: A's attempts are not counted here
  });
});

describe('createAuth: mounting auth.app on a node (issue 4)', () => {
  async function mountedNode(order: 'auth-first' | 'node-first') {
    const auth = await start({}, { env: ADMIN_ENV });
    const node = new Hono<GuardEnv>();
    const nodeRoutes = () => {
      node.post('/admin-api/blobs-upload', async (c) => c.json({ size: (await c.req.arrayBuffer()).byteLength }));
      node.get('/admin-api/health', (c) => c.json({ data: { status: 'alive' } }));
      node.use('/admin-api/contexts', auth.guard());
      node.get('/admin-api/contexts', (c) => c.json({ data: { caller: c.get('auth').keyId } }));
    };
    if (order === 'auth-first') {
      node.route('/', auth.app);
      nodeRoutes();
    } else {
      nodeRoutes();
      node.route('/', auth.app);
    }
    node.notFound((c) => c.text('node 404', 404));
    return { auth, node };
  }

  it.each(['auth-first', 'node-first'] as const)(
    '%s: one app serves /auth/*, /admin/* and the guarded node routes',
    async (order) => {
      const { node } = await mountedNode(order);
      const pair = await loginVia((r) => node.request(r));
      expect(pair.status).toBe(200);
      const identity = await node.request('http://node.local/admin/identity', {
        headers: { authorization: `Bearer ${pair.access}`, host: 'node.local' },
      });
      expect(identity.status).toBe(200);
      const contexts = await node.request('http://node.local/admin-api/contexts', {
        headers: { authorization: `Bearer ${pair.access}`, host: 'node.local' },
      });
      expect(contexts.status).toBe(200);
      const head = await node.request('http://node.local/auth/validate', {
        method: 'HEAD',
        headers: { authorization: `Bearer ${pair.access}`, host: 'node.local' },
      });
      expect([head.status, await head.text()]).toEqual([200, '']);
      const probe = await node.request('http://node.local/admin-api/contexts');
      expect([probe.status, await probe.text()]).toEqual([401, '']);
    },
  );

  it.each(['auth-first', 'node-first'] as const)(
    "%s: the service's body limit, CSP and security headers stay on /auth/* and /admin/*",
    async (order) => {
      const { node } = await mountedNode(order);
      const big = new Uint8Array(2 * 1024 * 1024);
      const upload = await node.request('http://node.local/admin-api/blobs-upload', {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(big.length) },
        body: big,
      });
      expect(upload.status).toBe(200);
      expect(await upload.json()).toEqual({ size: big.length });
      const health = await node.request('http://node.local/admin-api/health');
      for (const h of [
        'content-security-policy',
        'strict-transport-security',
        'x-frame-options',
        'vary',
        'access-control-expose-headers',
      ]) {
        expect(health.headers.get(h), h).toBeNull();
      }
      // The service's own routes keep them, 404s under its prefixes included (wire §1.2, §2.5).
      const ours = await node.request('http://node.local/auth/health');
      expect(ours.headers.get('x-frame-options')).toBe('DENY');
      expect(ours.headers.get('access-control-expose-headers')).toBe('x-auth-error,x-auth-user,x-auth-permissions');
      const unknown = await node.request('http://node.local/auth/nope');
      expect([unknown.status, await unknown.text(), unknown.headers.get('x-frame-options')]).toEqual([404, '', 'DENY']);
      const tooBig = await node.request('http://node.local/auth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(big.length) },
        body: big,
      });
      expect(tooBig.status).toBe(413);
      // Paths outside the two prefixes are the node's: its own 404.
      const other = await node.request('http://node.local/authx');
      expect([other.status, await other.text()]).toEqual([404, 'node 404']);
    },
  );

  it('auth.fetch is a plain Fetch-API handler for the service alone (no node routes)', async () => {
    const auth = await start();
    const res = await auth.fetch(new Request('http://x/auth/health'));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { status: string } }).data.status).toBe('alive');
    const node = await auth.fetch(new Request('http://x/admin-api/contexts'));
    expect([node.status, await node.text()]).toEqual([404, '']);
  });
});

describe('createAuth: the guard with the injected clock', () => {
  it('a frozen clock drives expiry: 401 token_expired once exp + leeway has passed', async () => {
    const clock = new ManualClock(Date.now());
    const auth = await start({ jwt: { leeway_seconds: 0 } }, { env: ADMIN_ENV, clock });
    const node = new Hono<GuardEnv>();
    node.route('/', auth.app);
    node.use('/admin-api/*', auth.guard());
    node.get('/admin-api/contexts', (c) => c.json({ keyId: c.get('auth').keyId }));
    const { access } = await loginVia((r) => node.request(r));
    expect(
      (
        await node.request('http://node.local/admin-api/contexts', {
          headers: { authorization: `Bearer ${access}`, host: 'node.local' },
        })
      ).status,
    ).toBe(200);
    clock.advanceSeconds(3601);
    const res = await node.request('http://node.local/admin-api/contexts', {
      headers: { authorization: `Bearer ${access}`, host: 'node.local' },
    });
    expect([res.status, res.headers.get('x-auth-error'), await res.text()]).toEqual([401, 'token_expired', '']);
  });
});

describe('createAuth: the Prometheus listener (wire §7.7)', () => {
  it('metrics.listen_addr opens it; close() closes it', async () => {
    const auth = await createAuth(
      { storage: { type: 'memory' }, metrics: { listen_addr: '127.0.0.1:0' } },
      { logger: silent, env: {} },
    );
    try {
      const addr = auth.metricsAddress;
      expect(addr?.address).toBe('127.0.0.1');
      await auth.fetch(new Request('http://x/auth/health'));
      const res = await fetch(`http://127.0.0.1:${addr?.port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('mero_auth_http_requests_total{method="GET",route="/auth/health",status="200"} 1');
    } finally {
      await auth.close();
    }
    await expect(fetch(`http://127.0.0.1:${auth.metricsAddress?.port}/metrics`)).rejects.toThrow();
  });

  it('a listener that cannot bind rejects createAuth and leaves nothing open', async () => {
    const first = await createAuth(
      { storage: { type: 'memory' }, metrics: { listen_addr: '127.0.0.1:0' } },
      { logger: silent, env: {} },
    );
    open.push(first);
    const taken = `127.0.0.1:${first.metricsAddress?.port}`;
    const path = join(await dataDir(), 'auth');
    await expect(
      createAuth({ storage: { type: 'level', path }, metrics: { listen_addr: taken } }, { logger: silent, env: {} }),
    ).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+ \(metrics\.listen_addr\)/);
    // The store was closed: the same path opens.
    await start({ storage: { type: 'level', path } });
  });
});

describe('createAuth: close()', () => {
  it('is idempotent (one promise) and makes the service not ready', async () => {
    const auth = await createAuth({ storage: { type: 'memory' } }, { logger: silent, env: {} });
    const a = auth.close();
    expect(auth.close()).toBe(a);
    await a;
    const ready = await auth.fetch(new Request('http://x/auth/ready'));
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { error: string }).error).toContain('shutting down');
  });
});
