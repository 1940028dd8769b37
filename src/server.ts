import { Socket, type AddressInfo } from 'node:net';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { parseListenAddr } from './config/validators.js';
import type { NodeLane } from './http/validate-lane.js';

export interface Listening {
  server: Server;
  address: AddressInfo;
}

export interface ListenOptions {
  /** Tried first for every request; what it does not answer goes to the app. */
  lane?: NodeLane;
}

/**
 * The most header fields a request may carry: hyper's limit, so the Rust service's answer (a 431
 * before any route runs). Apache and Tomcat default to the same. Also keeps every header in
 * sight: Node hands only its first 1000 lines to req.headers (rawHeaders keeps more).
 */
export const MAX_HEADER_FIELDS = 100;

/** A bare 431 that closes the connection, as hyper (and Node for oversized heads) answers. */
function tooManyHeaders(res: ServerResponse): void {
  res.writeHead(431, { 'content-length': '0', connection: 'close' });
  res.end();
}

/**
 * A connection closed while its request body is still arriving (a 413, a 431) keeps reading and
 * discarding it for at most this long, or this many bytes, before the socket is destroyed.
 */
export const LINGER_MS = 1000;
export const LINGER_BYTES = 16 * 1024 * 1024;

const kRequest = Symbol('mero-auth:request');
const kLingering = Symbol('mero-auth:lingering');
type LingerSocket = Socket & { [kRequest]?: IncomingMessage; [kLingering]?: true };
const { destroySoon } = Socket.prototype;

/**
 * What Node calls to close a connection after a `Connection: close` answer. Its own version ends
 * the write side and destroys the socket once the answer is flushed; a request body the server
 * never read is then still arriving, and closing a socket with unread bytes sends a TCP reset,
 * which makes the client's kernel throw away the answer it has not read yet (a client that sends
 * its whole body before reading — Python's http.client, most synchronous clients — sees EPIPE or
 * ECONNRESET instead of the 413). So, when the body is unfinished: end the write side (the
 * client gets the answer and EOF), keep reading and discarding, and destroy the socket once the
 * body is complete, the client closes, or LINGER_MS / LINGER_BYTES have passed (Apache's
 * lingering close).
 */
function lingeringDestroySoon(this: LingerSocket): void {
  const req = this[kRequest];
  if (req === undefined || req.complete || this.destroyed) {
    destroySoon.call(this);
    return;
  }
  if (this[kLingering]) return;
  this[kLingering] = true;
  const start = this.bytesRead;
  const done = (): void => {
    clearTimeout(timer);
    this.destroy();
  };
  const timer = setTimeout(done, LINGER_MS);
  timer.unref();
  if (this.writable) this.end();
  this.once('end', done);
  this.once('close', () => clearTimeout(timer));
  req.once('end', done);
  req.once('error', done);
  // Nobody reads the rest (a reader given up on holds the stream paused): discard it.
  req.removeAllListeners('data');
  req.on('data', () => {
    if (this.bytesRead - start > LINGER_BYTES) done();
  });
  req.resume();
}

/** Starts an HTTP listener for a Hono app; rejects on a bind error. */
export function listen(app: Hono, addr: string, opts: ListenOptions = {}): Promise<Listening> {
  const { host, port } = parseListenAddr(addr);
  const { lane } = opts;
  return new Promise((resolve, reject) => {
    const server = serve({
      fetch: app.fetch,
      hostname: host,
      port,
      createServer: (options: ServerOptions, listener: RequestListener) =>
        createServer(options, (req, res) => {
          const socket = req.socket as LingerSocket;
          socket[kRequest] = req;
          if (socket.destroySoon !== lingeringDestroySoon) socket.destroySoon = lingeringDestroySoon;
          if (req.rawHeaders.length > 2 * MAX_HEADER_FIELDS) tooManyHeaders(res);
          else if (lane === undefined || !lane(req, res)) listener(req, res);
        }),
    } as Parameters<typeof serve>[0]) as Server;
    // Count every line (Node's default stops at 1000 and drops the rest without a word); the
    // 16 KiB header size limit still bounds them.
    server.maxHeadersCount = 0;
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve({ server, address: server.address() as AddressInfo });
    });
  });
}

/** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts the rest. */
export function closeServer(server: Server, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
