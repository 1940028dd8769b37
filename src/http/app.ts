import { Hono, type MiddlewareHandler } from 'hono';
import { buildCsp } from '../config/csp.js';
import { isAuthError } from '../errors.js';
import type { AuthService } from '../service.js';
import { panicResponse, statusOf } from './errors.js';
import { unavailableFrom } from '../errors.js';
import { logSafe } from '../util/logger.js';
import { fail, send } from './respond.js';
import { rawPath } from './request.js';
import { corsPolicy } from './middleware/cors.js';
import { adminCallerOf } from './middleware/admin-auth.js';
import { edge, type EdgeOptions } from './middleware/edge.js';
import { logRouteRefusal } from './middleware/refusal-log.js';
import { securityHeaders } from './middleware/security-headers.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerAuthRoutes } from './routes/auth.js';

/**
 * The HTTP surface in the order of wire §2.8: security headers and CORS wrap everything
 * (so 404, 405, 413 and preflights carry them), then the body limit, then routing.
 */
export function createApp(svc: AuthService): Hono {
  const app = new Hono({ getPath: rawPath });
  app.use(requestLog(svc));
  app.use(edge(edgeOptions(svc)));

  registerAuthRoutes(app, svc);
  registerAdminRoutes(app, svc);

  // Unknown path: 404 with no body and no Content-Type (wire §1.2).
  app.notFound((c) => send(c, null, 404));
  app.onError((err, c) => {
    if (isAuthError(err)) {
      if (statusOf(err.code) === 403) logRouteRefusal(svc.core.log, c, err, adminCallerOf(c)?.keyId);
      return fail(c, err);
    }
    const unavailable = unavailableFrom(err);
    if (unavailable !== undefined) {
      svc.core.log.warn({ err: err.message }, 'request failed: database unavailable');
      return fail(c, unavailable);
    }
    svc.core.log.error({ err: err.message, stack: err.stack }, 'unhandled error');
    return panicResponse();
  });
  return app;
}

export const REQUEST_MESSAGE = 'request';

/**
 * `-vv` (trace): one line per request the app answers — method, raw path (no query), status and
 * duration in milliseconds by the service's clock. The logger is read per request, and costs
 * one level check when trace is off.
 */
function requestLog(svc: AuthService): MiddlewareHandler {
  return async function requestLogMiddleware(c, next) {
    const log = svc.core.log;
    if (!log.isLevelEnabled('trace')) return next();
    const clock = svc.core.clock;
    const started = clock.nowMs();
    await next();
    log.trace(
      { method: logSafe(c.req.method), path: logSafe(c.req.path), status: c.res.status, duration_ms: clock.nowMs() - started },
      REQUEST_MESSAGE,
    );
  };
}

/** What wraps every response, from the configuration: shared by the app and the validate lane. */
export function edgeOptions(svc: AuthService): EdgeOptions {
  const { config } = svc;
  const h = config.security.headers;
  const prometheus = svc.core.metrics.prometheus;
  return {
    security: securityHeaders({
      enabled: h.enabled,
      hstsMaxAge: h.hsts_max_age,
      hstsIncludeSubdomains: h.hsts_include_subdomains,
      frameOptions: h.frame_options,
      contentTypeOptions: h.content_type_options,
      referrerPolicy: h.referrer_policy,
      csp: h.csp.enabled ? buildCsp(h.csp) : undefined,
    }),
    cors: corsPolicy({
      allowAllOrigins: config.cors.allow_all_origins,
      allowedOrigins: config.cors.allowed_origins,
      allowedMethods: config.cors.allowed_methods,
      allowedHeaders: config.cors.allowed_headers,
    }),
    maxBodySize: config.security.max_body_size,
    onAbort: (method, path) =>
      svc.core.log.debug({ method, path: logSafe(path) }, 'client closed the connection before the answer'),
    ...(prometheus ? { observe: prometheus.httpRequest.bind(prometheus) } : {}),
  };
}
