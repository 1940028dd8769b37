import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { addBaseHeaders, isComplete } from '../respond.js';

export interface CorsOptions {
  allowAllOrigins: boolean;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
}

const VARY = 'origin, access-control-request-method, access-control-request-headers';
const EXPOSED = 'x-auth-error,x-auth-user,x-auth-permissions';
const PERMISSIVE: Record<string, string> = Object.freeze({
  'access-control-allow-origin': '*',
  'access-control-expose-headers': '*',
  vary: VARY,
});
const EXPLICIT: Record<string, string> = Object.freeze({ 'access-control-expose-headers': EXPOSED, vary: VARY });

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
    const headers = actualHeaders(c.req.header('origin'));
    addBaseHeaders(c, headers);
    await next();
    if (isComplete(c.res)) return;
    const h = c.res.headers;
    for (const k in headers) h.set(k, headers[k] as string);
  };

  function actualHeaders(origin: string | undefined): Record<string, string> {
    if (opts.allowAllOrigins) return PERMISSIVE;
    if (origin !== undefined && allowed.has(origin)) return { ...EXPLICIT, 'access-control-allow-origin': origin };
    return EXPLICIT;
  }
}

export const CORS_VARY = VARY;
