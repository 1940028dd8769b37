import type { Context, MiddlewareHandler, Next } from 'hono';
import { matchedRoutes } from 'hono/route';
import { bodyLimit } from 'hono/body-limit';
import { AuthError } from '../../errors.js';
import { headerMerger } from '../header-merge.js';
import { fail, isComplete, setBaseHeaders } from '../respond.js';
import type { CorsPolicy } from './cors.js';

export interface EdgeOptions {
  security: (path: string) => Readonly<Record<string, string>>;
  cors: CorsPolicy;
  maxBodySize: number;
  /** Request counts and latencies by route pattern; absent when no Prometheus listener is set. */
  observe?: (method: string, route: string, status: number, seconds: number) => void;
}

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
  const limit = bodyLimit({
    maxSize: opts.maxBodySize,
    // The unread rest of the body would be parsed as the next request: close the connection.
    onError: (c) =>
      fail(c, new AuthError('payload_too_large', 'length limit exceeded'), { headers: { connection: 'close' } }),
  });
  const combine = headerMerger();

  const { observe } = opts;
  if (observe === undefined) return handle;
  return async function observedEdge(c, next) {
    const started = performance.now();
    try {
      return await handle(c, next);
    } finally {
      observe(c.req.method, routeLabel(c), c.res.status, (performance.now() - started) / 1000);
    }
  };

  async function handle(c: Context, next: Next): Promise<Response | void> {
    const security = opts.security(c.req.path);
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
    const unframedRead =
      (c.req.method === 'GET' || c.req.method === 'HEAD') &&
      c.req.header('content-length') === undefined &&
      c.req.header('transfer-encoding') === undefined;
    if (unframedRead) await next();
    else {
      const refused = await limit(c, next);
      if (refused instanceof Response) c.res = refused; // the 413; otherwise next() already ran
    }

    if (isComplete(c.res)) return;
    const h = c.res.headers;
    for (const k in headers) h.set(k, headers[k] as string);
  }
}
