// @ts-check
/**
 * A reference Calimero node server: the node routes that matter to authentication, in both
 * shapes a deployment has (like `merod run --auth-mode`):
 *
 * - `embedded`: the node mounts `createAuth()` (login, `/auth/*`, `/admin/*`) and puts the
 *   guard in front of its own routes; one process, one port.
 * - `proxy`: no guard; a reverse proxy (nginx, Caddy, Traefik) asks mero-auth's
 *   `/auth/validate` before each request and copies the caller's identity into `X-Auth-User`
 *   and `X-Auth-Permissions`, which it always overwrites (see deploy/ and docs/deploy.md).
 *
 * Routes: unguarded `GET /admin-api/health` and `GET /admin-api/is-authed`; guarded
 * `GET|POST /admin-api/contexts`, `POST /admin-api/namespaces`, `POST /jsonrpc`, `GET /sse` +
 * `POST /sse/subscription`, and `GET /ws` (WebSocket; the token travels as `?token=`). State is
 * in memory: it is an example, not a node.
 */
import { randomUUID } from 'node:crypto';
import { serve, upgradeWebSocket } from '@hono/node-server';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { streamSSE } from 'hono/streaming';
import { WebSocketServer } from 'ws';

/** @typedef {import('./node.js').AuthMode} AuthMode */
/** @typedef {import('./node.js').NodeIdentity} NodeIdentity */
/** @typedef {import('./node.js').NodeEvent} NodeEvent */
/** @typedef {import('./node.js').NodeOptions} NodeOptions */
/** @typedef {{ contexts: Set<string>, owner: string | undefined, push(event: NodeEvent): void }} Subscriber */

/** Routes that answer without a token in both modes (as on a Calimero node). */
const PUBLIC_PATHS = new Set(['/admin-api/health', '/admin-api/is-authed']);

/** The path as sent, without the query: what the permission table and the proxy saw. */
function rawPath(/** @type {string} */ url) {
  const start = url.indexOf('/', url.indexOf('://') + 3);
  if (start === -1) return '/';
  const q = url.indexOf('?', start);
  return url.slice(start, q === -1 ? undefined : q);
}

/** Context ids from a subscription request's params; undefined when malformed. */
function contextIdsOf(/** @type {unknown} */ params) {
  const ids = params && typeof params === 'object' ? /** @type {{ contextIds?: unknown }} */ (params).contextIds : undefined;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string' && id !== '')) return undefined;
  return /** @type {string[]} */ (ids);
}

/**
 * Context ids → the subscribers (SSE connections, WebSockets) that receive its events.
 */
class EventHub {
  /** @type {Map<string, Set<Subscriber>>} */
  #byContext = new Map();

  /** @param {Subscriber} sub @param {string[]} ids */
  subscribe(sub, ids) {
    for (const id of ids) {
      sub.contexts.add(id);
      let set = this.#byContext.get(id);
      if (set === undefined) this.#byContext.set(id, (set = new Set()));
      set.add(sub);
    }
  }

  /** @param {Subscriber} sub @param {string[]} ids */
  unsubscribe(sub, ids) {
    for (const id of ids) {
      sub.contexts.delete(id);
      const set = this.#byContext.get(id);
      set?.delete(sub);
      if (set?.size === 0) this.#byContext.delete(id);
    }
  }

  /** @param {Subscriber} sub */
  remove(sub) {
    this.unsubscribe(sub, [...sub.contexts]);
  }

  /** Delivers to every subscriber of the event's context; returns how many there were. */
  emit(/** @type {NodeEvent} */ event) {
    const set = this.#byContext.get(event.contextId);
    if (set === undefined) return 0;
    for (const sub of set) sub.push(event);
    return set.size;
  }
}

/**
 * The node's Hono app and its WebSocket server.
 * @param {NodeOptions} options
 */
export function createNode(options) {
  const { authMode, auth } = options;
  if (authMode === 'embedded' && auth === undefined) throw new Error('--auth-mode embedded needs a createAuth() instance');
  if (authMode !== 'embedded' && authMode !== 'proxy') throw new Error(`unknown auth mode: ${String(authMode)}`);

  const hub = new EventHub();
  /** @type {Map<string, { id: string, owner: string | undefined, sub: Subscriber }>} */
  const sseConnections = new Map();
  /** @type {Set<() => void>} */
  const sseEnders = new Set();
  /** @type {{ id: string, name: string }[]} */
  const contexts = [];
  const wss = new WebSocketServer({ noServer: true });

  /** @type {Hono<{ Variables: { identity: NodeIdentity | undefined } }>} */
  const app = new Hono();

  // The node's CORS layer wraps everything, the service's routes included, and answers
  // preflights before any authentication. Cross-origin clients (browsers, Tauri) must be able to
  // read X-Auth-Error on 401/403, or they cannot tell "refresh" from "log in again" (wire §2.6).
  app.use(cors({ origin: '*', exposeHeaders: ['x-auth-error', 'x-auth-user', 'x-auth-permissions'] }));

  if (auth !== undefined) app.route('/', auth.app); // /auth/* and /admin/*, before the node's routes

  // A node behind forward auth must route on the path the permission table saw. Hono routes on
  // a percent-decoded path, so `/%61dmin-api/contexts` would reach `/admin-api/contexts` while
  // the table (and the Rust node's router) sees an unknown path: refuse such spellings.
  app.use('*', async (c, next) => {
    if (rawPath(c.req.url) !== c.req.path) return c.body(null, 404);
    await next();
  });

  // Who is calling: the embedded guard's verdict, or the identity the proxy copied from
  // mero-auth's answer (X-Auth-User, X-Auth-Permissions; the shipped proxy configs overwrite
  // both, so a client cannot set them).
  const guard = auth?.guard();
  app.use('*', async (c, next) => {
    if (PUBLIC_PATHS.has(c.req.path) || !isNodeRoute(c.req.path)) return next();
    if (guard === undefined) {
      const keyId = c.req.header('x-auth-user');
      const perms = c.req.header('x-auth-permissions');
      c.set('identity', keyId ? { keyId, permissions: perms ? perms.split(',') : [] } : undefined);
      return next();
    }
    return guard(/** @type {any} */ (c), async () => {
      const id = /** @type {import('../../src/index.js').AuthIdentity} */ (/** @type {any} */ (c).get('auth'));
      c.set('identity', { keyId: id.keyId, permissions: id.permissions, publicKey: id.publicKey, sid: id.sid });
      await next();
    });
  });

  app.get('/admin-api/health', (c) => c.json({ data: { status: 'alive' } }));
  app.get('/admin-api/is-authed', (c) => c.json({ data: { status: 'alive' } }));

  app.get('/admin-api/contexts', (c) => c.json({ data: { contexts } }));
  app.post('/admin-api/contexts', async (c) => {
    const body = await c.req.json().catch(() => ({}));
    const context = { id: randomUUID(), name: typeof body?.name === 'string' ? body.name : '' };
    contexts.push(context);
    return c.json({ data: { contextId: context.id } });
  });
  app.post('/admin-api/namespaces', (c) => c.json({ data: { namespaceId: randomUUID() } }));

  app.post('/jsonrpc', async (c) => {
    /** @type {any} */
    let req;
    try {
      req = await c.req.json();
    } catch {
      return c.json({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    }
    const id = req?.id ?? null;
    if (req?.method === 'query') {
      return c.json({ jsonrpc: '2.0', id, result: { identity: c.get('identity') ?? null } });
    }
    if (req?.method === 'mutate') {
      const contextId = req.params?.contextId;
      if (typeof contextId !== 'string' || contextId === '') {
        return c.json({ jsonrpc: '2.0', id, error: { code: -32602, message: 'params.contextId is required' } });
      }
      const delivered = hub.emit({ contextId, type: 'StateMutation', data: req.params?.data ?? null });
      return c.json({ jsonrpc: '2.0', id, result: { contextId, delivered } });
    }
    return c.json({ jsonrpc: '2.0', id, error: { code: -32601, message: 'Method not found' } });
  });

  // SSE: the first event is `connect` with the connection id; the client then subscribes with
  // POST /sse/subscription {id, method, params: {contextIds}} and receives `message` events.
  app.get('/sse', (c) => {
    const owner = c.get('identity')?.keyId;
    c.header('x-accel-buffering', 'no'); // nginx: do not buffer this response
    return streamSSE(c, async (stream) => {
      const id = randomUUID();
      /** @type {Subscriber} */
      const sub = {
        contexts: new Set(),
        owner,
        push: (event) => void stream.writeSSE({ event: 'message', data: JSON.stringify(event) }).catch(() => {}),
      };
      sseConnections.set(id, { id, owner, sub });
      /** @type {() => void} */
      let end = () => {};
      const ended = new Promise((resolve) => (end = () => resolve(undefined)));
      sseEnders.add(end);
      stream.onAbort(end);
      const heartbeat = setInterval(() => void stream.write(': keep-alive\n\n').catch(end), 15_000);
      try {
        await stream.writeSSE({ event: 'connect', data: id });
        await ended;
      } finally {
        clearInterval(heartbeat);
        sseEnders.delete(end);
        sseConnections.delete(id);
        hub.remove(sub);
      }
    });
  });

  app.post('/sse/subscription', async (c) => {
    /** @type {any} */
    const body = await c.req.json().catch(() => undefined);
    const ids = contextIdsOf(body?.params);
    if (typeof body?.id !== 'string' || (body.method !== 'subscribe' && body.method !== 'unsubscribe') || !ids) {
      return c.json(
        {
          body: { error: { type: 'ParseError', data: 'expected {id, method: "subscribe"|"unsubscribe", params: {contextIds}}' } },
        },
        400,
      );
    }
    const conn = sseConnections.get(body.id);
    // A connection belongs to whoever opened it: another caller cannot steer its subscriptions.
    if (conn === undefined || conn.owner !== c.get('identity')?.keyId) {
      return c.json({ body: { error: { type: 'InternalError', data: 'unknown connection' } } }, 404);
    }
    if (body.method === 'subscribe') hub.subscribe(conn.sub, ids);
    else hub.unsubscribe(conn.sub, ids);
    return c.json({ body: { result: { contextIds: [...conn.sub.contexts] } } });
  });

  // WebSocket: requests {id, method: "subscribe"|"unsubscribe", params: {contextIds}} →
  // {id, result: {contextIds}}; events arrive as {id: null, result: <event>}.
  app.get(
    '/ws',
    upgradeWebSocket((c) => {
      /** @type {Subscriber} */
      const sub = { contexts: new Set(), owner: c.get('identity')?.keyId, push: () => {} };
      return {
        onOpen(_event, ws) {
          sub.push = (event) => ws.send(JSON.stringify({ id: null, result: event }));
        },
        onMessage(event, ws) {
          /** @type {any} */
          let msg;
          try {
            msg = JSON.parse(String(event.data));
          } catch {
            ws.send(JSON.stringify({ id: null, error: { type: 'ParseError', data: 'not JSON' } }));
            return;
          }
          const ids = contextIdsOf(msg?.params);
          if ((msg?.method !== 'subscribe' && msg?.method !== 'unsubscribe') || !ids) {
            ws.send(JSON.stringify({ id: msg?.id ?? null, error: { type: 'ParseError', data: 'unknown request' } }));
            return;
          }
          if (msg.method === 'subscribe') hub.subscribe(sub, ids);
          else hub.unsubscribe(sub, ids);
          ws.send(JSON.stringify({ id: msg.id ?? null, result: { contextIds: [...sub.contexts] } }));
        },
        onClose() {
          hub.remove(sub);
        },
      };
    }),
  );
  // A plain GET without the upgrade handshake.
  app.get('/ws', (c) => c.body(null, 426, { upgrade: 'websocket' }));

  return {
    app,
    wss,
    /** Ends SSE streams and WebSockets (the HTTP server is closed by its owner). */
    close() {
      for (const end of sseEnders) end();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

/** The node routes a guard protects: `/admin-api/*`, `/jsonrpc`, `/ws`, `/sse`, `/sse/*`. */
function isNodeRoute(/** @type {string} */ path) {
  return path.startsWith('/admin-api/') || path === '/jsonrpc' || path === '/ws' || path === '/sse' || path.startsWith('/sse/');
}

/**
 * Creates the node and listens on `host:port` (port 0 = any free port).
 * @param {NodeOptions & { host?: string, port?: number }} options
 */
export async function startNode(options) {
  const node = createNode(options);
  const host = options.host ?? '127.0.0.1';
  const server = /** @type {import('node:http').Server} */ (
    serve({ fetch: node.app.fetch, hostname: host, port: options.port ?? 0, websocket: { server: node.wss } })
  );
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve(undefined);
    });
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  /** @type {Promise<void> | undefined} */
  let closing;
  return {
    node,
    server,
    port: address.port,
    url: `http://${hostPart}:${address.port}`,
    /** Stops accepting, ends streams and sockets, then closes the auth service if embedded. */
    close() {
      closing ??= (async () => {
        node.close();
        await new Promise((resolve) => {
          server.close(() => resolve(undefined));
          server.closeAllConnections();
        });
        await options.auth?.close();
      })();
      return closing;
    },
  };
}
