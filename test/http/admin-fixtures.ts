/**
 * Shared set-up for the `/admin/*` suites (admin-*.test.ts): callers with chosen permissions,
 * request shorthands and the assertions of wire §5.1 / §2.3 (empty-bodied rejections, the
 * X-Auth-User / X-Auth-Permissions pair once the middleware passed).
 */
import { expect } from 'vitest';
import { ADMIN, makeTestService, type TestService } from '../helpers/service.js';
import { addClientKey, adminKeyId, bearer, expectPermissiveCors, expectSecurityHeaders, mintPair } from '../helpers/http.js';
import type { AuthConfigInput } from '../../src/config/load.js';

export interface AdminWorld {
  t: TestService;
  /** The provisioned admin's root key id. */
  adminId: string;
  /** A login pair of the admin (effective permissions `[admin]`). */
  admin: { access: string; refresh: string };
}

export async function adminWorld(
  overrides: AuthConfigInput = {},
  opts: Parameters<typeof makeTestService>[1] = {},
): Promise<AdminWorld> {
  const t = await makeTestService(overrides, opts);
  const adminId = await adminKeyId(t);
  const { access, refresh, res } = await t.login();
  expect(res.status).toBe(200);
  return { t, adminId, admin: { access, refresh } };
}

export interface Caller {
  id: string;
  access: string;
  refresh: string;
  sid: string;
}

/** A client key of `rootId` holding `permissions`, with a live session and a pair claiming them. */
export async function clientCaller(t: TestService, rootId: string, permissions: string[]): Promise<Caller> {
  const id = await addClientKey(t, rootId, permissions);
  const pair = await mintPair(t, { sub: id, permissions });
  return { id, access: pair.access, refresh: pair.refresh, sid: pair.sid };
}

/** A request with an optional bearer and an optional JSON body. */
export function call(
  t: TestService,
  method: string,
  path: string,
  o: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    host: 'localhost:3001',
    ...(o.token === undefined ? {} : bearer(o.token)),
    ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...o.headers,
  };
  return t.request(path, {
    method,
    headers,
    ...(o.body === undefined ? {} : { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) }),
  });
}

/** A middleware rejection (wire §2.1 shape 3): status, X-Auth-Error, empty body, no caller headers. */
export async function expectRejected(res: Response, status: number, xae: string): Promise<void> {
  const text = await res.text();
  expect({ status: res.status, xae: res.headers.get('x-auth-error'), body: text }).toEqual({ status, xae, body: '' });
  expect(res.headers.get('content-type')).toBeNull();
  expect(res.headers.get('content-length')).toBe('0');
  expect(res.headers.get('x-auth-user')).toBeNull();
  expect(res.headers.get('x-auth-permissions')).toBeNull();
  expectSecurityHeaders(res);
  expectPermissiveCors(res);
}

/** The caller headers every response after the middleware carries (wire §2.3). */
export function expectCaller(res: Response, keyId: string, effective: string[]): void {
  expect(res.headers.get('x-auth-user')).toBe(keyId);
  expect(res.headers.get('x-auth-permissions')).toBe(effective.length === 0 ? null : effective.join(','));
  expect(res.headers.get('x-auth-error')).toBeNull();
  expectSecurityHeaders(res);
  expectPermissiveCors(res);
}

/** A 200 envelope whose body is exactly `{"data":<data>,"error":null}`. */
export async function expectData(res: Response, data: unknown): Promise<void> {
  const text = await res.text();
  expect({ status: res.status, body: text }).toEqual({ status: 200, body: JSON.stringify({ data, error: null }) });
  expect(res.headers.get('content-type')).toBe('application/json');
}

/** A 200 envelope; returns `data`. */
export async function dataOf<T = unknown>(res: Response): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  const json = JSON.parse(text) as { data: T; error: null };
  expect(json.error).toBeNull();
  return json.data;
}

/** A plain-text answer (POST /admin/keys extraction, wire §2.1). */
export async function expectText(res: Response, status: number, messageOrPrefix: string, exact = true): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  expect(res.headers.get('x-auth-error')).toBeNull();
  if (exact) expect(text).toBe(messageOrPrefix);
  else expect(text.startsWith(messageOrPrefix), `${text} should start with ${messageOrPrefix}`).toBe(true);
}

export { ADMIN };
