import type { Context } from 'hono';
import { cors } from 'hono/cors';

export interface CorsOptions {
  allowAllOrigins: boolean;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
}

export const CORS_VARY = 'origin, access-control-request-method, access-control-request-headers';
const EXPOSED = 'x-auth-error,x-auth-user,x-auth-permissions';
const PERMISSIVE: Readonly<Record<string, string>> = Object.freeze({
  'access-control-allow-origin': '*',
  'access-control-expose-headers': '*',
  vary: CORS_VARY,
});
const EXPLICIT: Readonly<Record<string, string>> = Object.freeze({
  'access-control-expose-headers': EXPOSED,
  vary: CORS_VARY,
});

export interface CorsPolicy {
  isPreflight(c: Context): boolean;
  /** The empty 2xx answer to a preflight (wire §2.6), before routing and authentication. */
  preflight(c: Context): Promise<Response>;
  /** Headers every actual response carries, errors included, so browsers can read X-Auth-Error. */
  actualHeaders(origin: string | undefined): Readonly<Record<string, string>>;
}

/** CORS in the two modes of wire §2.6; preflights are answered by Hono's cors middleware. */
export function corsPolicy(opts: CorsOptions): CorsPolicy {
  const honoCors = opts.allowAllOrigins
    ? cors({ origin: '*', allowMethods: ['*'] })
    : cors({
        origin: opts.allowedOrigins,
        allowMethods: opts.allowedMethods,
        allowHeaders: opts.allowedHeaders.map((h) => h.toLowerCase()),
      });
  const allowed = new Map(opts.allowedOrigins.map((o) => [o, Object.freeze({ ...EXPLICIT, 'access-control-allow-origin': o })]));
  return {
    isPreflight: (c) => c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined,
    async preflight(c) {
      const res = (await honoCors(c, async () => {})) as Response;
      // Assigning c.res merges in the headers Hono's cors already put on the context (its own
      // `Vary: Access-Control-Request-Headers` / `Vary: Origin`); set ours after the merge.
      c.res = new Response(null, { status: res.status, headers: res.headers });
      const headers = c.res.headers;
      if (opts.allowAllOrigins && !headers.has('access-control-allow-headers')) {
        headers.set('access-control-allow-headers', '*');
      }
      headers.set('vary', CORS_VARY);
      return c.res;
    },
    actualHeaders(origin) {
      if (opts.allowAllOrigins) return PERMISSIVE;
      return (origin !== undefined && allowed.get(origin)) || EXPLICIT;
    },
  };
}
