import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { buildCsp } from '../config/csp.js';
import { AuthError, isAuthError } from '../errors.js';
import type { AuthService } from '../service.js';
import { panicResponse } from './errors.js';
import { fail, send } from './respond.js';
import { corsLayer } from './middleware/cors.js';
import { securityHeaders } from './middleware/security-headers.js';
import { registerAuthRoutes } from './routes/auth.js';

/**
 * The HTTP surface in the order of wire §2.8: security headers and CORS wrap everything
 * (so 404, 405, 413 and preflights carry them), then the body limit, then routing.
 */
export function createApp(svc: AuthService): Hono {
  const { config } = svc;
  const app = new Hono();
  const h = config.security.headers;

  app.use(
    securityHeaders({
      enabled: h.enabled,
      hstsMaxAge: h.hsts_max_age,
      hstsIncludeSubdomains: h.hsts_include_subdomains,
      frameOptions: h.frame_options,
      contentTypeOptions: h.content_type_options,
      referrerPolicy: h.referrer_policy,
      csp: h.csp.enabled ? buildCsp(h.csp) : undefined,
    }),
  );
  app.use(
    corsLayer({
      allowAllOrigins: config.cors.allow_all_origins,
      allowedOrigins: config.cors.allowed_origins,
      allowedMethods: config.cors.allowed_methods,
      allowedHeaders: config.cors.allowed_headers,
    }),
  );
  const limit = bodyLimit({
    maxSize: config.security.max_body_size,
    // The unread rest of the body would be parsed as the next request: close the connection.
    onError: (c) =>
      fail(c, new AuthError('payload_too_large', 'length limit exceeded'), { headers: { connection: 'close' } }),
  });
  // A GET or HEAD without framing headers carries no body on HTTP/1.1, and no GET route reads
  // one: skipping spares the hot path (forward-auth validate) from materialising the full
  // Request object. Every other request, framed or not (an embedded host's Request), is limited.
  app.use((c, next) =>
    (c.req.method === 'GET' || c.req.method === 'HEAD') &&
    c.req.header('content-length') === undefined &&
    c.req.header('transfer-encoding') === undefined
      ? next()
      : limit(c, next),
  );

  registerAuthRoutes(app, svc);

  // Unknown path: 404 with no body and no Content-Type (wire §1.2).
  app.notFound((c) => send(c, null, 404));
  app.onError((err, c) => {
    if (isAuthError(err)) return fail(c, err);
    svc.core.log.error({ err: err.message, stack: err.stack }, 'unhandled error');
    return panicResponse();
  });
  return app;
}
