import type { AddressInfo } from 'node:net';
import { createServer, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
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
