import type { Context, MiddlewareHandler, Next } from 'hono';
import { matchedRoutes } from 'hono/route';
import { bodyLimit } from 'hono/body-limit';
import { AuthError } from '../../errors.js';
import { headerMerger } from '../header-merge.js';
import { rawPathOf } from '../request.js';
import { fail, isComplete, send, setBaseHeaders } from '../respond.js';
import type { CorsPolicy } from './cors.js';

export interface EdgeOptions {
  security: (path: string) => Readonly<Record<string, string>>;
  cors: CorsPolicy;
  maxBodySize: number;
  /** Request counts and latencies by route pattern; absent when no Prometheus listener is set. */
  observe?: (method: string, route: string, status: number, seconds: number) => void;
  /** A request whose client hung up before it was answered (never observed, never an error). */
  onAbort?: (method: string, path: string) => void;
}

/** What @hono/node-server hands the app as `c.env`; absent under app.request() and embedded hosts. */
interface NodeBindings {
  incoming?: { url?: string; errored?: unknown; readableAborted?: boolean };
}

const incomingOf = (c: Context): NodeBindings['incoming'] => (c.env as NodeBindings | undefined)?.incoming;

/**
 * The client went away before it was answered: Node destroyed the request stream (a hang-up
 * mid-body, a reset). Nothing will reach it, so the request is neither answered nor counted.
 */
function clientGone(c: Context): boolean {
  const incoming = incomingOf(c);
  return incoming !== undefined && (incoming.errored != null || incoming.readableAborted === true);
}

/** The path of a request target: origin form (`/p?q`) or absolute form (`http://h/p?q`). */
function targetPath(target: string): string {
  if (target.charCodeAt(0) !== 47 /* / */) return rawPathOf(target);
  let end = 0;
  for (; end < target.length; end++) {
    const ch = target.charCodeAt(end);
    if (ch === 63 /* ? */ || ch === 35 /* # */) break;
  }
  return target.slice(0, end);
}

/** A `.` or `..` segment, also percent-encoded (`%2e`, `.%2E`…), as the URL parser reads them. */
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?=\/|$)/i;

/**
 * Wire §1.2: no dot-segment removal. @hono/node-server builds the Request URL with the WHATWG
 * parser, which resolves `/auth/../admin/keys` to `/admin/keys` before the router sees it; the
 * raw request target (`req.url`) still has them. A path with such a segment names no route, so
 * it is the empty 404 of an unknown path, whatever it would resolve to.
 */
function hasDotSegment(c: Context): boolean {
  const target = incomingOf(c)?.url;
  return target !== undefined && (target.includes('.') || target.includes('%')) && DOT_SEGMENT.test(targetPath(target));
}

/** Every response of the routes that hand out tokens: never stored by a cache (RFC 6749 §5.1). */
const TOKEN_PATHS = new Set(['/auth/token', '/auth/refresh', '/auth/mock-token', '/admin/client-key']);
const NO_STORE: Readonly<Record<string, string>> = Object.freeze({ 'cache-control': 'no-store', pragma: 'no-cache' });

/** Requests refused before routing (dot segments): their label is `unmatched`, whatever Hono matched. */
const unrouted = new WeakSet<Context>();

const notFound = (c: Context) => async (): Promise<void> => {
  unrouted.add(c);
  c.res = send(c, null, 404);
};

/** The registered pattern that matched (never the raw path: label values stay bounded). */
function routeLabel(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const path = routes[i]?.path;
    // Middleware patterns (`*`, `/admin/*`) are not routes: an unknown path under them is unmatched.
    if (path !== undefined && !path.endsWith('*')) return path;
  }
  return 'unmatched';
}

/**
 * Everything that wraps every request, in the order of wire §2.8: the CORS preflight answer,
 * the headers every response carries (security, CORS, Vary), and the body limit. One layer, so
 * the forward-auth hot path pays for one middleware, not three.
 */
export function edge(opts: EdgeOptions): MiddlewareHandler {
  const { maxBodySize } = opts;
  // The unread rest of the body would be parsed as the next request: close the connection (the
  // listener drains it first, src/server.ts, so the client gets to read the 413).
  const tooLarge = (c: Context) =>
    fail(c, new AuthError('payload_too_large', 'length limit exceeded'), { headers: { connection: 'close' } });
  const limit = bodyLimit({ maxSize: maxBodySize, onError: tooLarge });
  const combine = headerMerger();
  const noStore = new WeakMap<object, Readonly<Record<string, string>>>();
  const securityFor = (path: string): Readonly<Record<string, string>> => {
    const security = opts.security(path);
    if (!TOKEN_PATHS.has(path)) return security;
    let withNoStore = noStore.get(security);
    if (withNoStore === undefined) noStore.set(security, (withNoStore = Object.freeze({ ...NO_STORE, ...security })));
    return withNoStore;
  };

  const { observe, onAbort } = opts;
  return async function edgeMiddleware(c, next) {
    const started = observe === undefined ? 0 : performance.now();
    let preflight: Response | undefined;
    try {
      preflight = await handle(c, next);
    } catch (e) {
      // Reading the body failed because the client hung up: not a fault of ours.
      if (!clientGone(c)) throw e;
      c.res = send(c, null, 400, { connection: 'close' }); // written nowhere: the socket is gone
    }
    if (clientGone(c)) {
      onAbort?.(c.req.method, c.req.path);
      return;
    }
    observe?.(c.req.method, unrouted.has(c) ? 'unmatched' : routeLabel(c), c.res.status, (performance.now() - started) / 1000);
    return preflight;
  };

  async function handle(c: Context, next: Next): Promise<Response | undefined> {
    const security = securityFor(c.req.path);
    if (opts.cors.isPreflight(c)) {
      const res = await opts.cors.preflight(c);
      for (const k in security) res.headers.set(k, security[k] as string);
      return res;
    }
    const headers = combine(security, opts.cors.actualHeaders(c.req.header('origin')));
    setBaseHeaders(c, headers);

    // A GET or HEAD without framing headers carries no body on HTTP/1.1, and no GET route reads
    // one: skipping spares the hot path from materialising the full Request object. Every other
    // request, framed or not (an embedded host's Request), is limited.
    const declared = c.req.header('content-length');
    const unframedRead =
      (c.req.method === 'GET' || c.req.method === 'HEAD') &&
      declared === undefined &&
      c.req.header('transfer-encoding') === undefined;
    // Routing (§2.8 step 3) on the raw path: a dot segment names no route.
    const route = hasDotSegment(c) ? notFound(c) : next;
    if (unframedRead) await route();
    // A declared length over the limit is a 413 for every method: the framework's limit skips
    // requests without a body stream, which GET and HEAD never have under @hono/node-server.
    else if (declared !== undefined && Number.parseInt(declared, 10) > maxBodySize) c.res = tooLarge(c);
    else {
      const refused = await limit(c, route);
      if (refused instanceof Response) c.res = refused; // the 413; otherwise route() already ran
    }

    if (isComplete(c.res)) return;
    const h = c.res.headers;
    for (const k in headers) h.set(k, headers[k] as string);
  }
}
