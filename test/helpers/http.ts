/**
 * Helpers for the HTTP contract suite (test/http): envelope assertions, JWT decoding, token
 * forging (with the service's own key or with garbage) and direct minting of pairs with claims
 * that login cannot produce (no node_url, empty permissions, unknown key, unknown session).
 */
import { randomUUID } from 'node:crypto';
import { CompactSign } from 'jose';
import { expect } from 'vitest';
import { newRootKey, type KeyRecord } from '../../src/keys/key.js';
import { pairClaims, signClaims } from '../../src/tokens/mint.js';
import type { TokenClaims } from '../../src/tokens/claims.js';
import { nowSeconds } from '../../src/util/clock.js';
import { ADMIN, type TestService } from './service.js';

/** base64url of `{"typ":"JWT","alg":"HS256"}`, the only header we mint (wire §4.1). */
export const JWT_HEADER = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9';
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const ROOT_KEY_ID = /^[0-9a-f]{64}$/;
export const VARY = 'origin, access-control-request-method, access-control-request-headers';
export const EXPOSED = 'x-auth-error,x-auth-user,x-auth-permissions';
export const DEFAULT_CSP =
  "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; connect-src 'self' http://localhost:* http://host.docker.internal:* http://*.nip.io:* https://*.nip.io:* https: http:;";
export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
export const SECURITY_HEADERS: Record<string, string> = {
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
};
export const NO_HOST_MESSAGE =
  'Token is node-bound but the request carries no Host or X-Forwarded-Host header to validate against';
export const T0 = 1_700_000_000; // the helper's frozen clock, in seconds
export const TWO_MIB = 2 * 1024 * 1024;

const enc = new TextEncoder();

export function b64url(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return Buffer.from(text, 'utf8').toString('base64url');
}

export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  headerPart: string;
  payloadText: string;
} {
  const [h = '', p = ''] = token.split('.');
  const payloadText = Buffer.from(p, 'base64url').toString('utf8');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(payloadText) as Record<string, unknown>,
    headerPart: h,
    payloadText,
  };
}

/** A compact JWS with an arbitrary header/payload signed with the service's primary secret. */
export async function forgeSigned(
  t: TestService,
  payload: unknown,
  header: Record<string, unknown> = { typ: 'JWT', alg: 'HS256' },
): Promise<string> {
  return new CompactSign(enc.encode(JSON.stringify(payload)))
    .setProtectedHeader(header as { alg: string })
    .sign(t.svc.core.secrets.signingKey());
}

/** A token signed with a foreign HS256 secret (a valid JWS the service must refuse). */
export async function forgeForeign(payload: unknown): Promise<string> {
  const key = enc.encode('not-the-service-secret-not-the-service-secret');
  return new CompactSign(enc.encode(JSON.stringify(payload))).setProtectedHeader({ typ: 'JWT', alg: 'HS256' }).sign(key);
}

/** Header + payload + an arbitrary signature part: for alg none / HS512 / RS256 headers. */
export function forgeUnsigned(header: Record<string, unknown>, payload: unknown, signature = 'c2lnbmF0dXJl'): string {
  return `${b64url(header)}.${b64url(payload)}.${signature}`;
}

export async function adminKeyId(t: TestService): Promise<string> {
  const user = await t.svc.core.users.get(ADMIN.username);
  if (!user) throw new Error('admin not provisioned');
  return user.key_id;
}

/** Claims of a valid access token for `sub` in a real session (for forging variants of it). */
export function claimsFor(
  t: TestService,
  o: { sub: string; sid?: string; type?: 'access' | 'refresh'; permissions?: string[]; nodeUrl?: string; iat?: number },
): TokenClaims {
  const now = o.iat ?? nowSeconds(t.clock);
  const pair = pairClaims({
    sub: o.sub,
    sid: o.sid ?? randomUUID(),
    permissions: o.permissions ?? ['admin'],
    nodeUrl: o.nodeUrl,
    issuer: t.svc.config.jwt.issuer,
    nowSeconds: now,
    accessExpiry: t.svc.config.jwt.access_token_expiry,
    refreshExpiry: t.svc.config.jwt.refresh_token_expiry,
  });
  return o.type === 'refresh' ? pair.refresh : pair.access;
}

/**
 * Opens a real session for `sub` (default: the admin key) and signs a pair with the service key,
 * like login does, but with any permissions / node_url (or none). `session: false` skips the
 * session record (→ "Session not found").
 */
export async function mintPair(
  t: TestService,
  o: { sub?: string; permissions?: string[]; nodeUrl?: string; session?: boolean } = {},
): Promise<{ access: string; refresh: string; sid: string; sub: string }> {
  const sub = o.sub ?? (await adminKeyId(t));
  const now = nowSeconds(t.clock);
  const { jwt } = t.svc.config;
  const { sid, ops } = t.svc.core.sessions.openOps(sub, now + jwt.refresh_token_expiry, now);
  if (o.session !== false) await t.svc.core.store.batch(ops);
  const claims = pairClaims({
    sub,
    sid,
    permissions: o.permissions ?? ['admin'],
    nodeUrl: o.nodeUrl,
    issuer: jwt.issuer,
    nowSeconds: now,
    accessExpiry: jwt.access_token_expiry,
    refreshExpiry: jwt.refresh_token_expiry,
  });
  return {
    access: await signClaims(claims.access, t.svc.core.secrets),
    refresh: await signClaims(claims.refresh, t.svc.core.secrets),
    sid,
    sub,
  };
}

/** Rewrites a key record in the store (revoke it, expire it, change its permissions). */
export async function updateKey(t: TestService, id: string, change: Partial<KeyRecord>): Promise<void> {
  const key = await t.svc.core.keys.get(id);
  if (!key) throw new Error(`no key ${id}`);
  await t.svc.core.store.batch([t.svc.core.keys.putOp(id, { ...key, ...change })]);
}

/** Stores a client key minted by `rootId` (what POST /admin/client-key writes, wire §5.7). */
export async function addClientKey(t: TestService, rootId: string, permissions: string[]): Promise<string> {
  const id = randomUUID();
  const now = nowSeconds(t.clock);
  const key: KeyRecord = {
    ...newRootKey({ publicKey: '', authMethod: '', permissions, now }),
    key_type: 'Client',
    public_key: null,
    auth_method: null,
    root_key_id: rootId,
    name: 'Context Client - ctx (id)',
  };
  await t.svc.core.store.batch([
    t.svc.core.keys.putOp(id, key),
    { type: 'put', key: `idx:root_clients:${rootId}:${id}`, value: new Uint8Array() },
  ]);
  return id;
}

/** Provisions a second account directly (argon2 with the test parameters). */
export async function addUser(
  t: TestService,
  username: string,
  password: string,
  o: { nodeUrl?: string; permissions?: string[] } = {},
): Promise<string> {
  const { KeyManager } = await import('../../src/keys/key-manager.js');
  const id = KeyManager.newRootKeyId();
  const now = nowSeconds(t.clock);
  const hash = await t.svc.core.hasher.hash(password);
  await t.svc.core.store.batch([
    t.svc.core.keys.putOp(
      id,
      newRootKey({
        publicKey: username,
        authMethod: 'user_password',
        permissions: o.permissions ?? ['admin'],
        nodeUrl: o.nodeUrl,
        now,
      }),
    ),
    t.svc.core.users.putOp(username, { key_id: id, password_hash: hash, created_at: now, updated_at: now }),
  ]);
  return id;
}

export interface Envelope {
  data: unknown;
  error: string | null;
}

export async function bodyOf(res: Response): Promise<string> {
  return res.text();
}

/** err(S, "m"): status, JSON envelope `{"data":null,"error":"m"}` byte for byte, and the XAE. */
export async function expectErr(res: Response, status: number, message: string, xae: string | null = null): Promise<void> {
  const text = await res.text();
  expect({ status: res.status, body: text, xae: res.headers.get('x-auth-error') }).toEqual({
    status,
    body: JSON.stringify({ data: null, error: message }),
    xae,
  });
  expect(res.headers.get('content-type')).toBe('application/json');
}

/** Like expectErr, with a message prefix (for best-effort detail texts). */
export async function expectErrPrefix(res: Response, status: number, prefix: string, xae: string | null = null): Promise<string> {
  const text = await res.text();
  expect({ status: res.status, xae: res.headers.get('x-auth-error') }).toEqual({ status, xae });
  expect(res.headers.get('content-type')).toBe('application/json');
  const json = JSON.parse(text) as Envelope;
  expect(Object.keys(json)).toEqual(['data', 'error']);
  expect(json.data).toBeNull();
  expect(json.error?.startsWith(prefix), `${JSON.stringify(json.error)} should start with ${prefix}`).toBe(true);
  return json.error ?? '';
}

/** §2.1 shape 2: `{"error":…,"status":N}`, no data key, JSON content type. */
export async function expectExtraction(
  res: Response,
  status: 400 | 422,
  messageOrPrefix: string,
  exact = false,
): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json');
  expect(res.headers.get('x-auth-error')).toBeNull();
  const json = JSON.parse(text) as { error: string; status: number };
  expect(Object.keys(json)).toEqual(['error', 'status']);
  expect(json.status).toBe(status);
  if (exact) expect(json.error).toBe(messageOrPrefix);
  else expect(json.error.startsWith(messageOrPrefix), `${json.error} should start with ${messageOrPrefix}`).toBe(true);
  return json.error;
}

/** A 200 token-pair envelope; returns the tokens. */
export async function expectPair(res: Response): Promise<{ access: string; refresh: string; text: string }> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json');
  expect(text).toMatch(/^\{"data":\{"access_token":"[\w.-]+","refresh_token":"[\w.-]+","error":null\},"error":null\}$/);
  const json = JSON.parse(text) as { data: { access_token: string; refresh_token: string } };
  return { access: json.data.access_token, refresh: json.data.refresh_token, text };
}

/** An empty body with no Content-Type (404/405 of §1.2). */
export async function expectEmpty(res: Response, status: number): Promise<void> {
  expect(res.status).toBe(status);
  expect(await res.text()).toBe('');
  expect(res.headers.get('content-type')).toBeNull();
}

export function expectSecurityHeaders(res: Response, csp: string | null = DEFAULT_CSP): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(k), k).toBe(v);
  expect(res.headers.get('content-security-policy')).toBe(csp);
}

/** Permissive-mode CORS on an actual response (wire §2.6). */
export function expectPermissiveCors(res: Response): void {
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  expect(res.headers.get('access-control-expose-headers')).toBe('*');
  expect(res.headers.get('vary')).toBe(VARY);
  expect(res.headers.get('access-control-allow-credentials')).toBeNull();
}

let peerCounter = 0;
/** A fresh client address, so the address limiter of one test never leaks into another. */
export function freshPeer(): string {
  peerCounter++;
  return `198.18.${Math.floor(peerCounter / 250)}.${(peerCounter % 250) + 1}`;
}

/** A login body (wire §3.2) with overrides. */
export function loginBody(o: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    auth_method: 'user_password',
    public_key: ADMIN.username,
    client_name: 'mero-js-sdk',
    permissions: ['admin'],
    timestamp: T0,
    provider_data: { username: ADMIN.username, password: ADMIN.password },
    ...o,
  };
}

/** Bearer + a Host header (every HTTP/1.1 request has one; login tokens are node-bound). */
export function bearer(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, host: 'localhost:3001', ...extra };
}

/** A ReadableStream body of `size` bytes, sent chunked (no Content-Length). */
export function chunkedInit(size: number, headers: Record<string, string> = {}): RequestInit {
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) {
        controller.close();
        return;
      }
      const n = Math.min(chunk.length, size - sent);
      controller.enqueue(chunk.subarray(0, n));
      sent += n;
    },
  });
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...headers },
    body,
    duplex: 'half',
  } as RequestInit;
}

/** A body of `size` bytes with an explicit Content-Length. */
export function sizedInit(size: number, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(size), ...headers },
    body: new Uint8Array(size).fill(0x20),
  };
}
