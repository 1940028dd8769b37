import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

export interface CorsOptions {
  allowAllOrigins: boolean;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
}

const VARY = 'origin, access-control-request-method, access-control-request-headers';
const EXPOSED = 'x-auth-error,x-auth-user,x-auth-permissions';

/**
 * CORS in the two modes of wire §2.6. Preflights (OPTIONS + Access-Control-Request-Method) are
 * answered by Hono's cors middleware before routing; every other response gets the
 * actual-response headers afterwards, errors included, so browsers can read X-Auth-Error.
 */
export function corsLayer(opts: CorsOptions): MiddlewareHandler {
  const preflight = opts.allowAllOrigins
    ? cors({ origin: '*', allowMethods: ['*'] })
    : cors({
        origin: opts.allowedOrigins,
        allowMethods: opts.allowedMethods,
        allowHeaders: opts.allowedHeaders.map((h) => h.toLowerCase()),
      });
  const allowed = new Set(opts.allowedOrigins);

  return async function corsLayer(c, next) {
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined) {
      const res = (await preflight(c, async () => {})) as Response;
      // Assigning c.res merges in the headers Hono's cors already put on the context (its own
      // `Vary: Access-Control-Request-Headers` / `Vary: Origin`); set ours after the merge.
      c.res = new Response(null, { status: res.status, headers: res.headers });
      const headers = c.res.headers;
      if (opts.allowAllOrigins && !headers.has('access-control-allow-headers')) {
        headers.set('access-control-allow-headers', '*');
      }
      headers.set('vary', VARY);
      return c.res;
    }
    await next();
    const h = c.res.headers;
    if (opts.allowAllOrigins) {
      h.set('access-control-allow-origin', '*');
      h.set('access-control-expose-headers', '*');
    } else {
      const origin = c.req.header('origin');
      if (origin !== undefined && allowed.has(origin)) h.set('access-control-allow-origin', origin);
      h.set('access-control-expose-headers', EXPOSED);
    }
    h.set('vary', VARY);
  };
}

export const CORS_VARY = VARY;
