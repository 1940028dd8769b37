import type { AuthConfig } from './config/schema.js';
import type { Core } from './core.js';
import { ClientAddressResolver } from './auth/address.js';
import { HashPool } from './auth/hash-pool.js';
import { AttemptGate } from './auth/attempt-gate.js';
import { syncDummyCost } from './auth/dummy-cost.js';
import { RateLimiter } from './auth/rate-limiter.js';
import { migrateUsernames } from './auth/username.js';
import { PASSKEY_OPTIONS_PER_WINDOW, type LoginLimiters } from './auth/login.js';
import { KeyManager } from './keys/key-manager.js';
import { Metrics } from './metrics/index.js';
import { PasswordHasher } from './providers/password-hasher.js';
import { SecondFactorStore } from './second-factor/records.js';
import { UserStore } from './providers/user-record.js';
import { resolveKek } from './secrets/kek.js';
import { SecretManager } from './secrets/manager.js';
import { CachingStore } from './storage/cache.js';
import { openStore } from './storage/open.js';
import { PostgresStore } from './storage/postgres.js';
import { getJson, putOp, type Store } from './storage/store.js';
import { sweepConsumed } from './tokens/refresh.js';
import { SessionManager } from './tokens/sessions.js';
import { BoundedSignatureCache } from './tokens/signature-cache.js';
import { nowSeconds, systemClock, type Clock } from './util/clock.js';
import { silentLogger, type Logger } from './util/logger.js';

export const SCHEMA_VERSION = 1;
const HOUR_MS = 3_600_000;

export interface ServiceOptions {
  clock?: Clock;
  /** Where MERO_AUTH_SECRET_KEK is read from (never AUTH__*: config is already resolved). */
  env?: Record<string, string | undefined>;
  logger?: Logger;
  /** An already-open store (tests); otherwise one is opened from `config.storage`. */
  store?: Store;
  /** Hashing slots; defaults to every core but one (src/auth/hash-pool.ts defaultSlots). */
  hashSlots?: number;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** Everything one running instance owns: the store, secrets, limiters, timers. */
export class AuthService {
  readonly startedAtMs: number;
  shuttingDown = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  private constructor(
    readonly core: Core,
    readonly limiters: LoginLimiters,
    readonly addresses: ClientAddressResolver,
  ) {
    this.startedAtMs = core.clock.nowMs();
  }

  static async open(config: AuthConfig, opts: ServiceOptions = {}): Promise<AuthService> {
    const clock = opts.clock ?? systemClock;
    const log = opts.logger ?? silentLogger;
    const env = opts.env ?? process.env;
    const { type, path, ...postgres } = config.storage;
    const storeLog = { info: (m: string) => log.info(m), warn: (m: string) => log.warn(m) };
    const inner = opts.store ?? (await openStore({ type, path, postgres, log: storeLog }));
    // Keys and sessions are read by every authenticated request (kept coherent across
    // instances by the store's change feed when it has one).
    const store = new CachingStore(inner, ['root_key:', 'client_key:', 'session:']);
    try {
      await checkSchema(store, clock);
      const kek = await resolveKek({
        env,
        storageType: store.kind,
        storagePath: config.storage.path,
        warn: (m) => log.warn(m),
      });
      const secrets = await SecretManager.load({
        store,
        kek,
        clock,
        rotationIntervalSeconds: config.secrets.rotation_interval_seconds,
        gracePeriodSeconds: config.secrets.grace_period_seconds,
        algorithm: config.jwt.algorithm,
        log: { info: (m: string) => log.info(m), warn: (m: string) => log.warn(m) },
      });
      const { memory_kib, iterations, parallelism } = config.user_password.argon2;
      const core: Core = {
        config,
        clock,
        store,
        secrets,
        keys: new KeyManager(store),
        sessions: new SessionManager(store),
        users: new UserStore(store),
        hasher: new PasswordHasher({ memoryKib: memory_kib, iterations, parallelism }),
        hashPool: new HashPool(opts.hashSlots === undefined ? {} : { slots: opts.hashSlots }),
        log,
        accountLock: { run: (fn) => store.exclusive('account', fn) },
        sessionLock: { run: (fn) => store.exclusive('session', fn) },
        sessionLocks: {
          run: (sid, fn) => store.shared('session', fn, sid),
          shared: (fn) => store.shared('session', fn),
        },
        signatureCache: new BoundedSignatureCache(config.jwt.verified_cache_mb * 1024 * 1024),
        metrics: new Metrics({ prometheus: config.metrics.listen_addr !== undefined }),
        secondFactors: new SecondFactorStore(store),
      };
      const windowMs = config.rate_limit.window_seconds * 1000;
      const limiters: LoginLimiters = {
        identity: new RateLimiter({ maxFailures: config.rate_limit.max_failures, windowMs }),
        address: new RateLimiter({ maxFailures: config.rate_limit.per_address_max_failures, windowMs }),
        attempts: new AttemptGate(),
        ceremonies: new RateLimiter({ maxFailures: PASSKEY_OPTIONS_PER_WINDOW, windowMs }),
        secondFactor: new RateLimiter({ maxFailures: config.rate_limit.max_failures, windowMs }),
        ...(inner instanceof PostgresStore ? { shared: inner.loginAttempts() } : {}),
      };
      // Another instance rotated the signing secrets: use them too.
      store.feed?.subscribe((keys) => {
        if (keys === 'all' || keys.some((k) => k.startsWith('system:secrets:'))) {
          secrets.reload().catch((e: unknown) => log.warn({ err: (e as Error).message }, 'reloading signing secrets failed'));
        }
      });
      await normaliseUsernames(core);
      await syncDummyCost(core);
      return new AuthService(core, limiters, new ClientAddressResolver(config.server.trusted_proxies));
    } catch (e) {
      await store.close().catch(() => {});
      throw e;
    }
  }

  get config(): AuthConfig {
    return this.core.config;
  }

  /** Rotation and sweeps: once now, then hourly, in the background, best-effort. */
  startTimers(): void {
    this.core.secrets.startTimer();
    const tick = () => {
      this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined));
    };
    tick();
    this.sweepTimer = setInterval(tick, HOUR_MS);
    this.sweepTimer.unref();
  }

  async sweep(): Promise<void> {
    try {
      const now = nowSeconds(this.core.clock);
      // Each delete batch takes the session lock (exclusive) by itself, never the whole sweep.
      const sessions = await this.core.sessions.sweep(now, this.core.config.jwt.leeway_seconds, this.core.sessionLock);
      const markers = (await sweepConsumed(this.core)) + (await this.core.secondFactors.sweep(now));
      if (sessions + markers > 0) this.core.log.info({ sessions, markers }, 'swept expired records');
    } catch (e) {
      this.core.log.warn({ err: (e as Error).message }, 'sweep failed');
    }
  }

  /**
   * Readiness (wire §3.8): reasons drawn from storage and shutting down, in that order. The
   * wire's `secrets` reason never arises: a service exists only once its secrets have loaded.
   */
  async readiness(): Promise<string[]> {
    const reasons: string[] = [];
    if (!(await this.storageAlive())) reasons.push('storage');
    if (this.shuttingDown) reasons.push('shutting down');
    return reasons;
  }

  async storageAlive(): Promise<boolean> {
    try {
      await this.core.store.has('health-check');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.shuttingDown = true;
    this.core.secrets.stopTimer();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.sweeping; // never close the store under a running sweep
    await this.core.store.close();
  }
}

/**
 * Legacy `user:<name>` records move to their canonical username (src/auth/username.ts), once per
 * start. Best-effort: until it succeeds, a legacy account still logs in under its exact spelling.
 */
async function normaliseUsernames(core: Core): Promise<void> {
  try {
    await migrateUsernames(core);
  } catch (e) {
    core.log.warn({ err: (e as Error).message }, 'normalising legacy usernames failed; retried at the next start');
  }
}

interface Meta {
  schema_version: number;
  created_at: number;
}

async function checkSchema(store: Store, clock: Clock): Promise<void> {
  const meta = await getJson<Meta>(store, 'system:meta');
  if (!meta) {
    await store.batch([putOp('system:meta', { schema_version: SCHEMA_VERSION, created_at: nowSeconds(clock) })]);
    return;
  }
  if (meta.schema_version > SCHEMA_VERSION) {
    throw new StartupError(
      `the store was written by a newer mero-auth (schema version ${meta.schema_version}; this build knows ${SCHEMA_VERSION})`,
    );
  }
}
