import type { Hono } from 'hono';
import { afterAll } from 'vitest';
import { configFromPartial, type AuthConfigInput } from '../../src/config/load.js';
import { createApp } from '../../src/http/app.js';
import { provision } from '../../src/auth/provision.js';
import { HashPool, type HashPoolOptions } from '../../src/auth/hash-pool.js';
import type { Core } from '../../src/core.js';
import { AuthService } from '../../src/service.js';
import { MemoryStore } from '../../src/storage/memory.js';
import type { Store } from '../../src/storage/store.js';
import { ManualClock } from '../../src/util/clock.js';
import { checkAgainstOpenApi } from './openapi.js';

export const TEST_ARGON2 = { memory_kib: 7168, iterations: 5, parallelism: 1 };
export const ADMIN = { username: 'admin', password: 'correct horse battery' };

export interface TestService {
  svc: AuthService;
  app: Hono;
  clock: ManualClock;
  store: Store;
  /** Requests through app.request() with a socket peer, as @hono/node-server would give. */
  request(path: string, init?: RequestInit & { peer?: string }): Promise<Response>;
  /** POST JSON helper. */
  post(path: string, body: unknown, headers?: Record<string, string>, peer?: string): Promise<Response>;
  login(overrides?: Partial<{ username: string; password: string; client_name: string; peer: string }>): Promise<{
    access: string;
    refresh: string;
    res: Response;
  }>;
  close(): Promise<void>;
}

/** A service on a memory store with a frozen clock and one provisioned admin (like better-auth's). */
/** The peer of a direct client (not a trusted proxy). */
export const CLIENT_PEER = '203.0.113.7';
/** The peer of the reverse proxy in front of the service: loopback, trusted by default. */
export const PROXY_PEER = '127.0.0.1';

/**
 * A request carrying X-Forwarded-Host/Uri/Method comes from the proxy that wrote them, unless the
 * test names another peer (the spoofing tests do: a direct client writing its own).
 */
function fromProxy(headers: RequestInit['headers']): boolean {
  const h = new Headers(headers);
  return h.has('x-forwarded-host') || h.has('x-forwarded-uri') || h.has('x-forwarded-method');
}

export async function makeTestService(
  overrides: AuthConfigInput = {},
  opts: {
    admin?: boolean;
    store?: Store;
    clock?: ManualClock;
    /** Hashing slots and queue (wire §8.2); AuthService.open only takes the slot count. */
    hashPool?: HashPoolOptions;
    /** What AuthService.open reads MERO_AUTH_SECRET_KEK from (a postgres store needs it); default {}. */
    env?: Record<string, string | undefined>;
  } = {},
): Promise<TestService> {
  const config = configFromPartial({
    storage: { type: 'memory', path: './unused' },
    ...overrides,
    user_password: { argon2: TEST_ARGON2, ...overrides.user_password },
  });
  const clock = opts.clock ?? new ManualClock(1_700_000_000_000);
  const store = opts.store ?? new MemoryStore();
  const svc = await AuthService.open(config, {
    clock,
    store,
    env: opts.env ?? {},
    ...(opts.hashPool?.slots === undefined ? {} : { hashSlots: opts.hashPool.slots }),
  });
  if (opts.hashPool?.queue !== undefined) {
    (svc.core as { -readonly [K in keyof Core]: Core[K] }).hashPool = new HashPool(opts.hashPool);
  }
  if (opts.admin !== false) await provision(svc.core, ADMIN.username, ADMIN.password, { wait: true });
  const app = createApp(svc);
  const request = async (path: string, init: RequestInit & { peer?: string } = {}) => {
    const { peer = fromProxy(init.headers) ? PROXY_PEER : CLIENT_PEER, ...rest } = init;
    const url = `http://localhost${path}`;
    const res = await app.request(url, rest, { incoming: { socket: { remoteAddress: peer } } });
    // Every answer under /auth/ and /admin/ must be one the OpenAPI document describes.
    await checkAgainstOpenApi({ method: rest.method ?? 'GET', url, headers: new Headers(rest.headers) }, res);
    return res;
  };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}, peer?: string) =>
    request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      ...(peer ? { peer } : {}),
    });
  const login: TestService['login'] = async (o = {}) => {
    const username = o.username ?? ADMIN.username;
    const res = await post(
      '/auth/token',
      {
        auth_method: 'user_password',
        public_key: username,
        client_name: o.client_name ?? 'mero-js-sdk',
        timestamp: 1_700_000_000,
        permissions: ['admin'],
        provider_data: { username, password: o.password ?? ADMIN.password },
      },
      {},
      o.peer,
    );
    let json: { data?: { access_token: string; refresh_token: string } | null } = {};
    try {
      json = JSON.parse(await res.clone().text()) as typeof json;
    } catch {
      // Not an envelope (e.g. a 500 "Service panicked"): the caller inspects `res`.
    }
    return { access: json.data?.access_token ?? '', refresh: json.data?.refresh_token ?? '', res };
  };
  return { svc, app, clock, store, request, post, login, close: () => svc.close() };
}

/**
 * makeTestService for one test file: call it at the file's top level; every service the returned
 * function makes is closed after the file's tests. `defaults` are the options of every call.
 */
export function testServices(
  defaults: Parameters<typeof makeTestService>[1] = {},
): (config?: AuthConfigInput, opts?: Parameters<typeof makeTestService>[1]) => Promise<TestService> {
  const made: TestService[] = [];
  afterAll(async () => {
    await Promise.all(made.map((s) => s.close()));
  });
  return async (config = {}, opts = {}) => {
    const s = await makeTestService(config, { ...defaults, ...opts });
    made.push(s);
    return s;
  };
}
