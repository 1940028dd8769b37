/**
 * Several real `mero-auth` processes on one PostgreSQL database, for test/e2e/cluster.test.ts:
 * each node gets its own working directory and port, the same database URL and the same
 * MERO_AUTH_SECRET_KEK. Plus the small admin and timing helpers those tests share.
 */
import { expect } from 'vitest';
import { claims, login, pairOf, request, validate, type Reply, type TokenPair } from './client.js';
import { FAST_ENV, startService, tempDir, type Env, type Service } from './process.js';

/** The key-encryption key every node of a test cluster shares (any passphrase works). */
export const CLUSTER_KEK = 'mero-auth-cluster-test-kek';
/** The default `storage.coherence_bound_ms`, which the nodes run with unless told otherwise. */
export const COHERENCE_BOUND_MS = 1_000;
/** What a propagation may take on a loaded test machine beyond the bound before it is a failure. */
export const PROPAGATION_MARGIN_MS = 1_500;

export const ADMIN_USER = 'admin';

/**
 * Fast argon2 (FAST_ENV), postgres storage on `dbUrl`, the shared KEK. Access tokens live 60 s
 * unless a test overrides it (FAST_ENV's 1 s would expire an admin's bearer between two calls);
 * the feed settings stay at their defaults (250 ms poll, 1000 ms coherence bound).
 */
export function nodeEnv(dbUrl: string, extra: Env = {}): Env {
  return {
    ...FAST_ENV,
    AUTH__JWT__ACCESS_TOKEN_EXPIRY: '60',
    AUTH__STORAGE__TYPE: 'postgres',
    AUTH__STORAGE__URL: dbUrl,
    MERO_AUTH_SECRET_KEK: CLUSTER_KEK,
    ...extra,
  };
}

/** Env that provisions the first admin when no account exists yet. */
export function adminEnv(password: string): Env {
  return { MERO_AUTH_ADMIN_USER: ADMIN_USER, MERO_AUTH_ADMIN_PASSWORD: password };
}

/** One node: its own directory (nothing of it should land there) and port, the shared database. */
export async function startNode(dbUrl: string, extra: Env = {}): Promise<Service> {
  const cwd = await tempDir();
  return startService({ cwd, env: nodeEnv(dbUrl, extra) });
}

/**
 * `count` nodes on `dbUrl`. The first provisions the admin (`password`) and runs the migration;
 * the others then start together.
 */
export async function startNodes(dbUrl: string, count: number, password: string, extra: Env = {}): Promise<Service[]> {
  const first = await startNode(dbUrl, { ...adminEnv(password), ...extra });
  const rest = await Promise.all(Array.from({ length: count - 1 }, () => startNode(dbUrl, extra)));
  return [first, ...rest];
}

/** Logs in and returns the pair, failing the test with the reply (and the node's output) otherwise. */
export async function loginPair(node: Service, username: string, password: string): Promise<TokenPair> {
  const reply = await login(node.url, username, password);
  expect(reply.status, `login as ${username} on ${node.url}: ${reply.text}\n${node.describe()}`).toBe(200);
  return pairOf(reply);
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** The key id (`sub`) a token belongs to. */
export function keyIdOf(token: string): string {
  return claims(token).sub as string;
}

/** `POST /admin/keys`: creates a user_password account, or re-provisions it (a new password revokes its sessions). */
export function provisionAccount(node: Service, adminAccess: string, username: string, password: string): Promise<Reply> {
  return request(`${node.url}/admin/keys`, {
    headers: bearer(adminAccess),
    body: { public_key: username, auth_method: 'user_password', provider_data: { username, password } },
  });
}

/** Asserts a 200 from validate carrying the token's key as X-Auth-User. */
export async function expectValid(node: Service, access: string, what: string): Promise<void> {
  const reply = await validate(node.url, access);
  expect(reply.status, `${what}: ${reply.status} ${reply.text}`).toBe(200);
  expect(reply.headers.get('x-auth-user'), what).toBe(keyIdOf(access));
}

export interface Refusal {
  /** Milliseconds from `sinceMs` to the first refusal received. */
  delayMs: number;
  reply: Reply;
  /** Validate calls made, the refusing one included. */
  tries: number;
}

/**
 * Polls `GET /auth/validate` on `node` with a short pause between tries until it answers
 * something other than 200, and returns that answer with the time since `sinceMs` (a
 * `performance.now()` value). Fails the test when the node still accepts the token after
 * `limitMs`. The delay is what the caller reports; only the generous limit is asserted.
 */
export async function firstRefusal(
  node: Service,
  access: string,
  sinceMs: number,
  limitMs = COHERENCE_BOUND_MS + PROPAGATION_MARGIN_MS,
): Promise<Refusal> {
  for (let tries = 1; ; tries++) {
    const reply = await validate(node.url, access);
    const now = performance.now();
    if (reply.status !== 200) return { delayMs: now - sinceMs, reply, tries };
    if (now - sinceMs > limitMs) {
      throw new Error(
        `${node.url} still accepted the token ${Math.round(now - sinceMs)} ms after the revocation was acknowledged ` +
          `(limit ${limitMs} ms, ${tries} tries)`,
      );
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until a probe yields a value, bounded; returns it (a wait for a state, never a timing assertion). */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  { timeoutMs = 10_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? ` (last error: ${last.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
