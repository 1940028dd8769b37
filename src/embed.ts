import type { Hono, MiddlewareHandler } from 'hono';
import { provisionFromEnv } from './auth/admin-env.js';
import { resolveEmbeddedConfig, type AuthConfigInput } from './config/load.js';
import type { AuthConfig } from './config/schema.js';
import { createApp } from './http/app.js';
import { createGuard, type GuardEnv, type GuardOptions } from './http/guard.js';
import { AuthService } from './service.js';
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

/** A running in-process auth service (wire §7.6, design §1 mode 2). */
export interface Auth {
  /** Serves `/auth/*`, `/admin/*` and the login UI: mount with `nodeApp.route('/', auth.app)`. */
  readonly app: Hono;
  /** Middleware for the node's own routes; handlers read `c.get('auth')`. */
  guard(options?: GuardOptions): MiddlewareHandler<GuardEnv>;
  /** The same app as a Fetch-API handler, for servers that are not Hono. */
  fetch(request: Request): Promise<Response>;
  /** The resolved configuration (embedded defaults applied). */
  readonly config: AuthConfig;
  /** Stops the timers and closes the store; call it in the node's graceful shutdown. */
  close(): Promise<void>;
}

/**
 * Starts the service inside a Node.js node server. `config` is the object the TOML file loads
 * into (snake_case keys); missing keys take the embedded defaults. Rejects — never exits — on an
 * invalid configuration (a ConfigError listing every problem), on a store another instance holds,
 * or on bad MERO_AUTH_ADMIN_* variables.
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
    throw e;
  }
  svc.startTimers();
  const app = createApp(svc);
  let closed: Promise<void> | undefined;
  return {
    app,
    config: resolved,
    guard: (guardOptions) => createGuard(svc.core, guardOptions),
    fetch: (request) => Promise.resolve(app.fetch(request)),
    close: () => (closed ??= svc.close()),
  };
}
