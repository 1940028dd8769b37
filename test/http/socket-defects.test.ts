import { EventEmitter, once } from 'node:events';
import { connect } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src/core.js';
import { createApp } from '../../src/http/app.js';
import { closeServer, listen, type Listening } from '../../src/server.js';
import { mintPair } from '../helpers/http.js';
import { sendRaw, type RawAnswer } from '../helpers/raw-http.js';
import { makeTestService, type TestService } from '../helpers/service.js';

/**
 * HTTP-layer defects only a real socket shows (issue 10 item 6): what reaches a client that does
 * not read while it writes, what a hang-up mid-body leaves in the logs and metrics, and the
 * request line as sent (fetch clients resolve dot segments before sending).
 */

const FIVE_MB = 5 * 1024 * 1024;

interface Exchange {
  text: string;
  /** The socket error the client saw, if any (ECONNRESET, EPIPE). */
  error: string | undefined;
}

/**
 * A client that sends its whole request before it reads a byte (Python's http.client and most
 * synchronous clients do): reading starts only once the body has been handed to the kernel, or
 * the write failed. If the server resets the connection meanwhile, the answer is lost.
 */
function writeThenRead(port: number, head: string, body: Buffer): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.pause();
    const chunks: Buffer[] = [];
    let error: string | undefined;
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
    socket.on('close', () => resolve({ text: Buffer.concat(chunks).toString('latin1'), error }));
    socket.write(head);
    socket.write(body, () => socket.resume());
  });
}

/** The body of a raw answer, chunked framing removed (Node frames a bodiless 404 that way). */
function bodyOf(res: RawAnswer): string {
  if (res.headers['transfer-encoding'] !== 'chunked') return res.body;
  let out = '';
  for (let at = 0; ; ) {
    const eol = res.body.indexOf('\r\n', at);
    const size = Number.parseInt(res.body.slice(at, eol), 16);
    if (!(size > 0)) return out;
    out += res.body.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

const postHead = (framing: string) =>
  `POST /auth/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`;

describe('Security: an oversized body still gets its 413 (a real socket, §2.7)', () => {
  let t: TestService;
  let server: Listening;
  beforeAll(async () => {
    t = await makeTestService({}, { admin: false });
    server = await listen(t.app, '127.0.0.1:0');
  });
  afterAll(async () => {
    await closeServer(server.server, 1000);
    await t.close();
  });

  const body = Buffer.alloc(FIVE_MB, 0x20);
  const chunked = Buffer.concat([Buffer.from(`${FIVE_MB.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
  it.each([
    ['Content-Length', postHead(`Content-Length: ${FIVE_MB}`), body],
    ['chunked', postHead('Transfer-Encoding: chunked'), chunked],
  ])('a client that writes a 5 MB body (%s) and only then reads sees HTTP/1.1 413, every time', async (_l, head, payload) => {
    for (let i = 0; i < 5; i++) {
      const { text, error } = await writeThenRead(server.address.port, head, payload);
      expect({ line: text.slice(0, text.indexOf('\r\n')), error }).toEqual({
        line: 'HTTP/1.1 413 Payload Too Large',
        error: undefined,
      });
      expect(text.toLowerCase()).toContain('\r\nconnection: close\r\n');
      expect(text.endsWith('\r\n\r\nlength limit exceeded')).toBe(true);
    }
  });
});

describe('Security: a huge Content-Length is a 413 whatever the method (a real socket, §2.7)', () => {
  let t: TestService;
  let server: Listening;
  beforeAll(async () => {
    t = await makeTestService({}, { admin: false });
    server = await listen(t.app, '127.0.0.1:0');
  });
  afterAll(async () => {
    await closeServer(server.server, 1000);
    await t.close();
  });

  it.each([
    ['GET', '/auth/health'],
    ['HEAD', '/auth/health'],
    ['GET', '/auth/validate'],
    ['DELETE', '/admin/keys/x'],
    ['OPTIONS', '/auth/token'],
  ])('%s %s with Content-Length: 10^12 → 413, connection closed', async (method, path) => {
    const res = await sendRaw(server.address.port, [
      `${method} ${path} HTTP/1.1`,
      'Host: localhost',
      'Content-Length: 1000000000000',
    ]);
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.body).toBe(method === 'HEAD' ? '' : 'length limit exceeded');
  });
});

describe('Security: a client that hangs up mid-body is no error and no answered request (a real socket)', () => {
  let t: TestService;
  let server: Listening;
  const lines: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  const events = new EventEmitter();
  beforeAll(async () => {
    t = await makeTestService({ metrics: { listen_addr: '127.0.0.1:0' } }, { admin: false });
    (t.svc.core as { log: Core['log'] }).log = pino(
      { level: 'debug' },
      {
        write: (l: string) => {
          const line = JSON.parse(l) as (typeof lines)[number];
          lines.push(line);
          events.emit('line', line);
        },
      },
    );
    const prometheus = t.svc.core.metrics.prometheus;
    if (!prometheus) throw new Error('prometheus metrics are off');
    const record = prometheus.httpRequest.bind(prometheus);
    // Bound by createApp: wrap before the app is made.
    prometheus.httpRequest = (...args) => {
      record(...args);
      events.emit('observed', args);
    };
    server = await listen(createApp(t.svc), '127.0.0.1:0');
  });
  afterAll(async () => {
    await closeServer(server.server, 1000);
    await t.close();
  });

  it.each([
    ['Content-Length', `${postHead('Content-Length: 1000')}{"auth_method":`],
    ['chunked', `${postHead('Transfer-Encoding: chunked')}f\r\n{"auth_method":\r\n`],
  ])('%s: logged once at debug as a client abort; never "unhandled error", never counted', async (_l, partial) => {
    lines.length = 0;
    const socket = connect(server.address.port, '127.0.0.1');
    socket.on('error', () => {});
    const started = once(server.server, 'request');
    socket.write(partial);
    await started;
    // Whatever comes first: the request counted in the metrics, or a log line.
    const first = new Promise<{ observed: unknown[] } | { line: (typeof lines)[number] }>((resolve) => {
      events.once('observed', (observed: unknown[]) => resolve({ observed }));
      events.once('line', (line: (typeof lines)[number]) => resolve({ line }));
    });
    socket.destroy();
    const outcome = await first;
    expect(outcome).toMatchObject({
      line: { level: 20, msg: 'client closed the connection before the answer', method: 'POST', path: '/auth/token' },
    });
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    const text = await t.svc.core.metrics.prometheus?.text();
    expect(text).not.toMatch(/mero_auth_http_requests_total\{[^}]*route="\/auth\/token"/);
  });
});

describe('Security: dot segments are not resolved (wire §1.2, a raw request line)', () => {
  let t: TestService;
  let server: Listening;
  let access: string;
  beforeAll(async () => {
    t = await makeTestService();
    server = await listen(t.app, '127.0.0.1:0');
    ({ access } = await mintPair(t));
  });
  afterAll(async () => {
    await closeServer(server.server, 1000);
    await t.close();
  });

  it.each([
    '/auth/../admin/keys',
    '/admin/./keys',
    '/auth/%2e%2e/admin/keys',
    '/auth/%2E%2e/admin/keys',
    '/auth/.%2e/admin/keys',
    '/admin/%2e/keys',
    '/x/../auth/health',
    '/x/../auth/validate',
    '/auth/health/.',
    '/admin/keys/x/..',
  ])('GET %s with an admin token → the empty 404 of an unknown path, not the route it resolves to', async (path) => {
    const res = await sendRaw(server.address.port, [
      `GET ${path} HTTP/1.1`,
      'Host: localhost',
      `Authorization: Bearer ${access}`,
    ]);
    expect({ status: res.status, body: bodyOf(res), type: res.headers['content-type'] }).toEqual({
      status: 404,
      body: '',
      type: undefined,
    });
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-auth-user']).toBeUndefined();
  });

  it('the same request line without dot segments reaches the route (the control case)', async () => {
    const res = await sendRaw(server.address.port, [
      'GET /admin/keys HTTP/1.1',
      'Host: localhost',
      `Authorization: Bearer ${access}`,
    ]);
    expect(res.status).toBe(200);
  });

  it('dots that are not whole segments are ordinary characters', async () => {
    const res = await sendRaw(server.address.port, ['GET /auth/assets/app.js HTTP/1.1', 'Host: localhost']);
    expect(res.status).toBe(404);
    expect(res.body).toBe('File not found');
    const query = await sendRaw(server.address.port, ['GET /auth/health?x=/../admin HTTP/1.1', 'Host: localhost']);
    expect(query.status).toBe(200);
  });
});
