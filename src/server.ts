import type { AddressInfo } from 'node:net';
import { createServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
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

/** Starts an HTTP listener for a Hono app; rejects on a bind error. */
export function listen(app: Hono, addr: string, opts: ListenOptions = {}): Promise<Listening> {
  const { host, port } = parseListenAddr(addr);
  const { lane } = opts;
  return new Promise((resolve, reject) => {
    const server = serve({
      fetch: app.fetch,
      hostname: host,
      port,
      ...(lane && {
        createServer: (options: ServerOptions, listener: RequestListener) =>
          createServer(options, (req, res) => {
            if (!lane(req, res)) listener(req, res);
          }),
      }),
    } as Parameters<typeof serve>[0]) as Server;
    // By default Node parses the first 1000 header lines into req.headers and drops the rest
    // without a word, while rawHeaders keeps more: a forwarded header pushed past line 1000
    // would be invisible to some reads and not others. All of them, then (the 16 KiB header
    // size limit still bounds the count).
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
