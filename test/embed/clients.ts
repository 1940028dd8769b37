/**
 * What a client of a Calimero node does, over real sockets: log in, mint a client key through
 * `POST /admin/client-key`, read a JWT, read an SSE stream, open a WebSocket. Shared by the
 * embedded tests (test/embed) and the proxy tests (test/proxy): the same scenarios run against
 * a node that mounts createAuth and against nginx/Caddy in front of the standalone service.
 */
import { expect } from 'vitest';
import WebSocket from 'ws';

export const ADMIN = { username: 'admin', password: 'correct horse battery' };
/** The lowest OWASP argon2 pair (wire §7.2), so logins in tests are quick. */
export const FAST_ARGON2 = { memory_kib: 7168, iterations: 5, parallelism: 1 };

export interface Pair {
  access: string;
  refresh: string;
}

/** `sub` of a JWT (the key id), without verifying it. */
export function subOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string };
  return payload.sub;
}

async function pairFrom(res: Response, what: string): Promise<Pair> {
  const text = await res.text();
  expect(res.status, `${what}: ${text}`).toBe(200);
  const json = JSON.parse(text) as { data: { access_token: string; refresh_token: string } };
  return { access: json.data.access_token, refresh: json.data.refresh_token };
}

/** `POST /auth/token` as merobox does (`client_name` = the node URL, so the tokens are host-bound). */
export async function login(base: string, creds = ADMIN): Promise<Pair> {
  const res = await fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth_method: 'user_password',
      public_key: creds.username,
      client_name: base,
      timestamp: Math.floor(Date.now() / 1000),
      permissions: ['admin'],
      provider_data: { username: creds.username, password: creds.password },
    }),
  });
  return pairFrom(res, 'login');
}

/** `POST /admin/client-key` with the root token (what the login page does for an app). */
export async function mintClient(base: string, rootAccess: string, permissions: string[]): Promise<Pair & { keyId: string }> {
  const res = await fetch(`${base}/admin/client-key`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${rootAccess}` },
    body: JSON.stringify({ context_id: '', context_identity: '', permissions }),
  });
  const pair = await pairFrom(res, 'client-key');
  return { ...pair, keyId: subOf(pair.access) };
}

/** `POST /admin/revoke {client_id}` (mero-js's body). */
export async function revokeKey(base: string, rootAccess: string, keyId: string): Promise<void> {
  const res = await fetch(`${base}/admin/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${rootAccess}` },
    body: JSON.stringify({ client_id: keyId }),
  });
  expect(res.status, await res.text()).toBe(200);
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** A JSON-RPC call to `POST /jsonrpc`. */
export function rpc(
  base: string,
  token: string | undefined,
  method: string,
  params: unknown = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${base}/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? bearer(token) : {}), ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
}

/** A middleware rejection of the guard: status, X-Auth-Error (or none), empty body. */
export async function expectBare(res: Response, status: number, xae: string | null): Promise<void> {
  const body = await res.text();
  expect({ status: res.status, xae: res.headers.get('x-auth-error'), body }).toEqual({ status, xae, body: '' });
}

/** An error answer of `/auth/validate` relayed by a proxy: status, X-Auth-Error, envelope. */
export async function expectValidateError(res: Response, status: number, xae: string, message: string | RegExp): Promise<void> {
  const body = await res.text();
  expect({ status: res.status, xae: res.headers.get('x-auth-error') }).toEqual({ status, xae });
  const json = JSON.parse(body) as { data: unknown; error: string };
  expect(json.data).toBeNull();
  if (typeof message === 'string') expect(json.error).toBe(message);
  else expect(json.error).toMatch(message);
}

export interface SseEvent {
  event: string;
  data: string;
}

/**
 * An open `GET /sse` stream: events are parsed as they arrive; `next()` waits for the next one
 * (bounded), `close()` aborts the request.
 */
export class SseStream {
  private readonly events: SseEvent[] = [];
  private readonly waiters: Array<() => void> = [];
  private ended = false;
  private read = 0;

  private constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {}

  static async open(url: string, headers: Record<string, string>): Promise<SseStream> {
    const abort = new AbortController();
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
    const stream = new SseStream(res, abort);
    if (res.ok && res.body) void stream.pump(res.body);
    return stream;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n/g, '\n');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length > 0) this.events.push({ event, data: data.join('\n') });
        }
        this.wake();
      }
    } catch {
      // aborted
    } finally {
      this.ended = true;
      this.wake();
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async next(timeoutMs = 5_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ev = this.events[this.read];
      if (ev !== undefined) {
        this.read++;
        return ev;
      }
      if (this.ended) throw new Error('SSE stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no SSE event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.abort.abort();
  }
}

/** Subscribes an SSE connection to contexts through `POST /sse/subscription`. */
export async function sseSubscribe(
  base: string,
  headers: Record<string, string>,
  id: string,
  contextIds: string[],
): Promise<Response> {
  return fetch(`${base}/sse/subscription`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ id, method: 'subscribe', params: { contextIds } }),
  });
}

/** The outcome of a WebSocket handshake: open, or refused with the HTTP answer. */
export type WsOutcome =
  | { open: true; ws: WebSocket; messages: MessageQueue }
  | { open: false; status: number; headers: Record<string, string | string[] | undefined> };

/** Messages of an open WebSocket, parsed as JSON; `next()` waits (bounded). */
export class MessageQueue {
  private readonly items: unknown[] = [];
  private readonly waiters: Array<() => void> = [];
  constructor(ws: WebSocket) {
    ws.on('message', (data) => {
      this.items.push(JSON.parse(String(data)));
      for (const w of this.waiters.splice(0)) w();
    });
  }
  async next(timeoutMs = 5_000): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.items.length > 0) return this.items.shift();
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no WebSocket message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** Opens `ws://…` and resolves once it is open or refused (bounded). */
export function openWs(url: string, headers: Record<string, string> = {}, timeoutMs = 5_000): Promise<WsOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs });
    const messages = new MessageQueue(ws);
    ws.once('open', () => resolve({ open: true, ws, messages }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ open: false, status: res.statusCode ?? 0, headers: res.headers });
      res.resume();
      ws.terminate();
    });
    ws.on('error', (e) => reject(e)); // after a refusal, terminate() reports one too: ignored
  });
}

/** Sends a subscription request and returns the node's answer. */
export async function wsSubscribe(ws: WebSocket, messages: MessageQueue, contextIds: string[]): Promise<unknown> {
  ws.send(JSON.stringify({ id: 7, method: 'subscribe', params: { contextIds } }));
  return messages.next();
}
