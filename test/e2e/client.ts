/** Small HTTP client for the end-to-end tests: the calls a frontend or mero-js makes. */
import { waitFor } from './process.js';

export interface Reply {
  status: number;
  headers: Headers;
  /** Raw body text ('' for HEAD and empty bodies). */
  text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  json: any;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
}

export const CLIENT_NAME = 'mero-auth-e2e';

export async function request(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(init.body);
  }
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export function login(base: string, username: string, password: string): Promise<Reply> {
  return request(`${base}/auth/token`, {
    body: {
      auth_method: 'user_password',
      public_key: username,
      client_name: CLIENT_NAME,
      timestamp: Math.floor(Date.now() / 1000),
      provider_data: { username, password },
    },
  });
}

/** Logs in and returns the pair; fails the test with the reply when it is not a 200. */
export async function loginOk(base: string, username: string, password: string): Promise<TokenPair> {
  const reply = await login(base, username, password);
  if (reply.status !== 200) throw new Error(`login as ${username} failed: ${reply.status} ${reply.text}`);
  return pairOf(reply);
}

export function pairOf(reply: Reply): TokenPair {
  const data = reply.json?.data as TokenPair | undefined;
  if (!data || typeof data.access_token !== 'string' || typeof data.refresh_token !== 'string') {
    throw new Error(`no token pair in ${reply.status} ${reply.text}`);
  }
  return { access_token: data.access_token, refresh_token: data.refresh_token };
}

export function refresh(base: string, accessToken: string, refreshToken: string): Promise<Reply> {
  return request(`${base}/auth/refresh`, {
    body: { access_token: accessToken, refresh_token: refreshToken },
  });
}

export function validate(base: string, accessToken: string, method: 'GET' | 'HEAD' | 'POST' = 'GET'): Promise<Reply> {
  return request(`${base}/auth/validate`, { method, headers: { authorization: `Bearer ${accessToken}` } });
}

/** The payload of a JWT, unverified. */
export function claims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new Error(`not a JWT: ${token}`);
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * Waits (bounded) until validate stops accepting the access token, and returns that reply: a
 * wait for a state, not a timing assertion.
 */
export function waitUntilExpired(base: string, accessToken: string): Promise<Reply> {
  return waitFor(async () => {
    const r = await validate(base, accessToken);
    return r.status === 200 ? undefined : r;
  }, 'the access token to expire');
}
