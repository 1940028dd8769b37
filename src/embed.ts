import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { AdminEnvError, provisionFromEnv } from './auth/admin-env.js';
import { ConfigError, formatSourceProblem } from './config/errors.js';
import { resolveEmbeddedConfig, type AuthConfigInput } from './config/load.js';
import type { AuthConfig } from './config/schema.js';
import { createApp } from './http/app.js';
import { createGuard, type GuardEnv, type GuardOptions } from './http/guard.js';
import { createMetricsApp } from './http/metrics-app.js';
import { closeServer, listen, type Listening } from './server.js';
import { AuthService } from './service.js';
import type { TokenClaims } from './tokens/claims.js';
import { verifyWithCore } from './tokens/core-verify.js';
import type { Clock } from './util/clock.js';
import { createLogger, type Logger } from './util/logger.js';

export interface CreateAuthOptions {
  /** Where logs go; defaults to JSON lines on stderr at `info`. */
  logger?: Logger;
  /** Time source for every rule (tests freeze it). */
  clock?: Clock;
  /** Read for MERO_AUTH_SECRET_KEK and MERO_AUTH_ADMIN_*; defaults to process.env. AUTH__* is never read. */
  env?: Record<string, string | undefined>;
}

/** Where a listener of the service is bound. */
export interface BoundAddress {
  address: string;
  port: number;
}

/** A running in-process auth service (wire §7.6, design §1 mode 2). */
export interface Auth {
  /**
   * Serves `/auth/*`, `/admin/*` and the login UI: mount with `nodeApp.route('/', auth.app)`.
   * It answers those two prefixes only; its security headers, CORS layer and body limit apply
   * to them and never to the node's own routes, whatever order the node mounts things in.
   */
  readonly app: Hono;
  /** Middleware for the node's own routes; handlers read `c.get('auth')`. */
  guard(options?: GuardOptions): MiddlewareHandler<GuardEnv>;
  /** The service as a Fetch-API handler (every path), for servers that are not Hono. */
  fetch(request: Request): Promise<Response>;
  /**
   * Checks an access token offline, with the service's own keys (any `jwt.algorithm`): the
   * signature, algorithm, kid, expiry (with leeway), issuer, audience, claim shape and type, as
   * `/auth/validate` does first. It does not look up the key or the session, so it does not see
   * a revocation; `guard()` does. Rejects with an Error whose message says why.
   */
  verifyAccessToken(token: string): Promise<TokenClaims>;
  /** The resolved configuration (embedded defaults applied). */
  readonly config: AuthConfig;
  /** The Prometheus listener's address when `metrics.listen_addr` is set (wire §7.7). */
  readonly metricsAddress: BoundAddress | undefined;
  /**
   * Stops the timers, closes the Prometheus listener (if any) and the store; call it in the
   * node's graceful shutdown. Idempotent: every call returns the same promise.
   */
  close(): Promise<void>;
}

/** The path prefixes the service owns on the node's wire (wire §1.1, §9 "All clients"). */
const PREFIXES = ['/auth', '/admin'] as const;

/**
 * Starts the service inside a Node.js node server. `config` is the object the TOML file loads
 * into (snake_case keys); missing keys take the embedded defaults. Rejects — never exits — on an
 * invalid configuration or bad MERO_AUTH_ADMIN_* variables (a ConfigError listing every problem),
 * on a store another instance holds (StorageLockedError), or when the Prometheus listener cannot
 * bind. On rejection nothing is left open.
 */
export async function createAuth(config: AuthConfigInput = {}, options: CreateAuthOptions = {}): Promise<Auth> {
  const { config: resolved, warnings } = resolveEmbeddedConfig(config);
  const logger = options.logger ?? createLogger('info');
  for (const w of warnings) logger.warn(w);
  const env = options.env ?? process.env;
  const svc = await AuthService.open(resolved, { env, logger, ...(options.clock ? { clock: options.clock } : {}) });
  try {
    await provisionFromEnv(svc.core, env);
  } catch (e) {
    await svc.close();
    // A bad MERO_AUTH_ADMIN_* combination is a configuration error (wire §7.1, §7.3).
    if (e instanceof AdminEnvError) throw new ConfigError([formatSourceProblem('environment', e.message)]);
    throw e;
  }

  let metrics: Listening | undefined;
  const prometheus = svc.core.metrics.prometheus;
  const metricsAddr = resolved.metrics.listen_addr;
  if (metricsAddr !== undefined && prometheus !== undefined) {
    try {
      metrics = await listen(createMetricsApp(prometheus), metricsAddr);
    } catch (e) {
      await svc.close();
      throw new Error(`cannot listen on ${metricsAddr} (metrics.listen_addr): ${(e as Error).message}`, { cause: e });
    }
  }
  svc.startTimers();

  const service = createApp(svc);
  // The service's own app wraps everything it serves in its edge middleware (security headers,
  // CORS, body limit). Mounted directly, Hono would hoist that middleware onto every route of the
  // node registered after it: a 1 MiB limit on blob uploads, our CSP on the node's pages. So the
  // mountable app only forwards the two prefixes to it.
  const forward = (c: Context) => service.fetch(c.req.raw, c.env);
  const app = new Hono();
  for (const prefix of PREFIXES) {
    app.all(prefix, forward);
    app.all(`${prefix}/*`, forward);
  }

  let closed: Promise<void> | undefined;
  const close = async () => {
    svc.shuttingDown = true;
    if (metrics !== undefined) await closeServer(metrics.server, 1_000);
    await svc.close();
  };
  return {
    app,
    config: resolved,
    metricsAddress: metrics ? { address: metrics.address.address, port: metrics.address.port } : undefined,
    guard: (guardOptions) => createGuard(svc.core, guardOptions),
    verifyAccessToken: (token) => verifyWithCore(svc.core, token, 'access'),
    fetch: (request) => Promise.resolve(service.fetch(request)),
    close: () => (closed ??= close()),
  };
}
