import type { Core } from '../core.js';
import { AuthError } from '../errors.js';
import { isValidKey } from '../keys/key.js';
import { isValidForNode } from '../permissions/node.js';
import { openSessionPair } from '../tokens/session-pair.js';
import type { TokenPair } from '../tokens/claims.js';
import { nowSeconds } from '../util/clock.js';
import { logSafe, shortId } from '../util/logger.js';
import type { AttemptGate } from './attempt-gate.js';
import { type AttemptBucket, gatedAttempt } from './gated-attempt.js';
import { identityBucketKey, type RateLimiter } from './rate-limiter.js';
import { sanitizeIdentifier, sanitizeString } from './sanitize.js';
import { canonicalUsername, findUser } from './username.js';
import { syncDummyCost } from './dummy-cost.js';
import { describeJson } from '../util/describe-json.js';
import type { LoginFailureType } from '../metrics/index.js';
import type { SharedLoginAttempts } from '../storage/postgres.js';
import { PasskeyRefused, passkeyDataProblem, verifyPasskeyLogin } from '../second-factor/passkeys.js';
import { SecondFactorRefused, SecondFactorRequired, requireSecondFactor, type CodeGuard } from '../second-factor/policy.js';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';

export interface LoginRequest {
  auth_method: string;
  public_key: string;
  client_name: string;
  timestamp: number;
  provider_data: unknown;
}

export interface LoginLimiters {
  identity: RateLimiter;
  address: RateLimiter;
  /** Attempts in flight per bucket, so parallel guesses cannot outrun the budget. */
  attempts: AttemptGate;
  /**
   * With a shared store: the same buckets in the database, so instances share one budget. The
   * in-process limiters above still answer first (no round trip for a bucket already locked
   * here); this one decides for the cluster.
   */
  shared?: SharedLoginAttempts;
  /**
   * `POST /auth/passkey/options` per client address (issue 13): each call stores a challenge, so
   * an anonymous caller must not be able to write without bound. Counts every call.
   */
  ceremonies: RateLimiter;
  /**
   * Wrong TOTP and recovery codes per account (its root key id), whatever `public_key` or address
   * the guesses come from (`rate_limit.max_failures` per `rate_limit.window_seconds`). With a
   * shared store the same bucket lives in the database too (`shared`), as the login buckets do.
   */
  secondFactor: RateLimiter;
}

/** Passkey sign-in options one client address may ask for per rate-limit window. */
export const PASSKEY_OPTIONS_PER_WINDOW = 60;

const SUPPORTED_METHODS = new Set(['user_password', 'username_password']);

/** A provider-level failure: becomes 401 `Authentication failed: <message>`. */
class LoginFailure extends Error {
  constructor(
    readonly type: LoginFailureType,
    message: string,
  ) {
    super(message);
  }
}

/**
 * `POST /auth/token` after body extraction, in the exact order of wire §3.2 steps 2–14.
 * `address` is the client address (undefined in embedded mode when the host cannot tell).
 */
export async function login(
  core: Core,
  limiters: LoginLimiters,
  req: LoginRequest,
  address: string | undefined,
): Promise<TokenPair> {
  const { metrics } = core;
  const identity = identityBucketKey(req.auth_method, req.public_key);

  const authMethod = sanitizeIdentifier(req.auth_method);
  const fail400 = (m: string): never => {
    metrics.login('bad_request');
    throw new AuthError('bad_request', m);
  };
  if (authMethod === '') fail400('Authentication method must contain valid characters');
  if (sanitizeString(req.public_key) === '') fail400('Public key cannot be empty after sanitization');
  if (sanitizeString(req.client_name) === '') fail400('Client name cannot be empty after sanitization');

  const recordFailure = (): void => {
    const at = core.clock.nowMs();
    limiters.identity.recordFailure(identity, at);
    if (address !== undefined) limiters.address.recordFailure(address, at);
  };
  const { rate_limit } = core.config;
  const buckets: AttemptBucket[] = [
    { limiter: limiters.identity, key: identity, name: `i:${identity}`, maxFailures: rate_limit.max_failures },
    ...(address === undefined
      ? []
      : [{ limiter: limiters.address, key: address, name: `a:${address}`, maxFailures: rate_limit.per_address_max_failures }]),
  ];
  return gatedAttempt(
    core,
    limiters,
    buckets,
    {
      resetBucket: `i:${identity}`,
      refuse: (retryAfter, by) => {
        // Locked here: the request counts as one more failure (wire §8.1). A refusal by the
        // cluster's buckets adds none here.
        if (by === 'local') recordFailure();
        metrics.login('rate_limited');
        throw new AuthError('rate_limited', 'Too many failed login attempts; please try again later', { retryAfter });
      },
    },
    async (report) => {
      const pair = await attemptLogin(core, limiters, req, authMethod, identity, address, () => {
        report('failed');
        recordFailure();
      });
      report('succeeded');
      return pair;
    },
  );
}

async function attemptLogin(
  core: Core,
  limiters: LoginLimiters,
  req: LoginRequest,
  authMethod: string,
  identity: string,
  address: string | undefined,
  recordFailure: () => void,
): Promise<TokenPair> {
  const { metrics } = core;
  // Step 5 on is an attempt (wire §5.12); its duration is what /admin/metrics averages.
  const started = performance.now();
  const attempt = (result: 'success' | LoginFailureType) => ({ result, durationMs: performance.now() - started });
  let account: Account;
  try {
    account =
      authMethod === 'passkey'
        ? await checkPasskey(core, req)
        : await checkCredentials(core, authMethod, req, (keyId) => codeGuard(core, limiters, keyId));
  } catch (e) {
    if (e instanceof SecondFactorRequired) {
      // The password was right but is not enough: counted like a failure, so the answer cannot
      // serve as an unlimited password oracle (issue 13).
      recordFailure();
      metrics.login('invalid_credentials', attempt('second_factor_required'));
      throw new AuthError('second_factor_required', e.message);
    }
    if (e instanceof AuthError) {
      // 429 from the per-account second-factor bucket, or 503: buckets of this login untouched.
      metrics.login(e.code === 'rate_limited' ? 'rate_limited' : 'busy');
      throw e;
    }
    if (!(e instanceof LoginFailure)) throw e;
    recordFailure();
    metrics.login('invalid_credentials', attempt(e.type));
    throw new AuthError('unauthorized', `Authentication failed: ${e.message}`);
  }

  limiters.identity.reset(identity);
  try {
    const { ops, pair } = await openSessionPair(core, {
      keyId: account.keyId,
      permissions: account.permissions,
      nodeUrl: req.client_name,
      now: nowSeconds(core.clock),
      origin: { clientName: sanitizeString(req.client_name), address },
    });
    // A password change that committed while this password was being checked has revoked every
    // session it could see; this one must not appear after it (wire §7.1 step 4). The change
    // re-checks and revokes under the exclusive sessionLock, so the shared side is enough here:
    // this check-and-write lands either wholly before a change (which then finds and revokes the
    // session) or wholly after it (and sees the new hash), while other logins and refreshes run
    // alongside. No per-session lock: no one else can know this brand-new sid yet.
    const current = await core.sessionLocks.shared(async () => {
      const user = await core.users.get(account.username);
      if (user?.password_hash !== account.passwordHash || user.key_id !== account.keyId) return false;
      await core.store.batch(ops);
      return true;
    });
    if (!current) {
      metrics.login('invalid_credentials', attempt('invalid_credentials'));
      throw new AuthError('unauthorized', 'Authentication failed: Authentication failed: Invalid username or password');
    }
    core.log.info({ key: shortId(account.keyId) }, 'login succeeded');
    metrics.login('success', attempt('success'));
    return pair;
  } catch (e) {
    if (e instanceof AuthError) throw e;
    core.log.error({ err: (e as Error).message }, 'token generation failed');
    metrics.login('error', attempt('internal'));
    throw new AuthError('internal', 'Failed to generate tokens', { cause: e });
  }
}

const SECOND_FACTOR_LIMITED = 'Too many wrong second-factor codes for this account; please try again later';

/**
 * The per-account limit on TOTP and recovery codes (security review): the identity bucket is
 * keyed by the client's `public_key`, so without this a new `public_key` per guess left only the
 * per-address limit. Checked before the code is looked at; a wrong code is a failure in the
 * account's bucket (in process, and in the database with a shared store, like the login
 * buckets); a right one clears it. Attempts in flight count against the budget (AttemptGate),
 * so parallel guesses cannot outrun it.
 */
function codeGuard(core: Core, limiters: LoginLimiters, keyId: string): CodeGuard {
  const bucket = `sf:${keyId}`;
  const { secondFactor } = limiters;
  const refuse = (retryAfter: number): never => {
    core.log.warn({ key: shortId(keyId), retry_after: retryAfter }, 'second-factor codes rate-limited for this account');
    throw new AuthError('rate_limited', SECOND_FACTOR_LIMITED, { retryAfter });
  };
  return (check) =>
    gatedAttempt(
      core,
      limiters,
      [{ limiter: secondFactor, key: bucket, name: bucket, maxFailures: core.config.rate_limit.max_failures }],
      { resetBucket: bucket, refuse },
      async (report) => {
        try {
          await check();
        } catch (e) {
          if (e instanceof SecondFactorRefused) {
            report('failed');
            secondFactor.recordFailure(bucket, core.clock.nowMs());
            core.log.info({ key: shortId(keyId) }, 'wrong second-factor code');
          }
          throw e;
        }
        report('succeeded');
        secondFactor.reset(bucket);
      },
    );
}

/** What a successful credential check established. */
interface Account {
  username: string;
  keyId: string;
  permissions: string[];
  /** The hash the password was verified against (or the upgrade written right after). */
  passwordHash: string;
}

/**
 * `auth_method: "passkey"` (issue 13): `provider_data` is `{attempt_id, response}`, the attempt
 * from `POST /auth/passkey/options` and the authenticator's assertion. Satisfies any
 * second-factor policy on its own.
 */
async function checkPasskey(core: Core, req: LoginRequest): Promise<Account> {
  if (!core.config.providers.passkey.enabled) {
    throw new LoginFailure('unsupported_method', 'Invalid request: Unsupported authentication method: passkey');
  }
  const problem = passkeyDataProblem(req.provider_data);
  if (problem !== undefined) throw new LoginFailure('invalid_provider_data', `Invalid request: Invalid passkey data: ${problem}`);
  let proven;
  try {
    proven = await verifyPasskeyLogin(core, req.provider_data as { attempt_id: string; response: AuthenticationResponseJSON });
  } catch (e) {
    if (e instanceof PasskeyRefused) {
      core.log.info({ reason: e.message }, 'passkey sign-in refused');
      throw new LoginFailure('invalid_passkey', e.message);
    }
    throw e;
  }
  const key = await core.keys.getRoot(proven.keyId);
  if (key?.node_url !== undefined && !isValidForNode(key.node_url, req.client_name)) {
    throw new LoginFailure('node_mismatch', 'Authentication failed: Key is not valid for this node');
  }
  const user = await core.users.get(proven.username);
  if (user === undefined || user.key_id !== proven.keyId) throw new LoginFailure('invalid_passkey', 'Unknown passkey');
  return { username: proven.username, keyId: proven.keyId, permissions: proven.permissions, passwordHash: user.password_hash };
}

async function checkCredentials(
  core: Core,
  authMethod: string,
  req: LoginRequest,
  guardOf: (keyId: string) => CodeGuard,
): Promise<Account> {
  if (!core.config.providers.user_password || !SUPPORTED_METHODS.has(authMethod)) {
    throw new LoginFailure('unsupported_method', `Invalid request: Unsupported authentication method: ${authMethod}`);
  }
  const data = req.provider_data;
  const detail = providerDataProblem(data);
  if (detail !== undefined) {
    throw new LoginFailure('invalid_provider_data', `Invalid request: Invalid username/password data: ${detail}`);
  }
  if (authMethod !== 'user_password') {
    throw new LoginFailure(
      'unsupported_method',
      `Invalid request: Unsupported authentication method: ${authMethod}. Supported methods: user_password`,
    );
  }
  const { username, password } = data as { username: string; password: string };
  const max = core.config.user_password.max_password_length;
  if ([...password].length > max) {
    throw new LoginFailure('password_too_long', `Authentication failed: Password must be at most ${max} characters long`);
  }

  // The same argon2 work whether the user exists or not (dummy hash), same message for every miss.
  // An invalid username (src/auth/username.ts) is an unknown user: it never reveals itself.
  const invalid = new LoginFailure('invalid_credentials', 'Authentication failed: Invalid username or password');
  const canonical = canonicalUsername(username);
  const found = canonical.ok ? await findUser(core.users, username, canonical.name) : undefined;
  const user = found?.record;
  const ok = await core.hashPool.run(() =>
    user ? core.hasher.verify(user.password_hash, password) : core.hasher.verifyDummy(password),
  );
  if (!user || !ok) {
    core.log.info({ user: logSafe(username) }, 'login failed');
    throw invalid;
  }
  const key = await core.keys.getRoot(user.key_id);
  const now = nowSeconds(core.clock);
  if (!key || !isValidKey(key, now)) throw invalid;

  const stored = found?.name ?? username;
  const passwordHash = core.hasher.needsRehash(user.password_hash)
    ? await rehash(core, stored, password, user.password_hash)
    : user.password_hash;
  if (key.node_url !== undefined && !isValidForNode(key.node_url, req.client_name)) {
    throw new LoginFailure('node_mismatch', 'Authentication failed: Key is not valid for this node');
  }
  // Issue 13: an account with a second factor needs it too (nothing changes for `none`).
  try {
    await requireSecondFactor(core, { username: stored, keyId: user.key_id }, data, guardOf(user.key_id));
  } catch (e) {
    if (e instanceof SecondFactorRefused) throw new LoginFailure('invalid_second_factor', `Authentication failed: ${e.message}`);
    throw e;
  }
  return { username: stored, keyId: user.key_id, permissions: key.permissions, passwordHash };
}

/** Upgrades a hash made with other argon2 parameters; returns the hash the record now holds. */
async function rehash(core: Core, username: string, password: string, verified: string): Promise<string> {
  try {
    const hash = await core.hashPool.runWaiting(() => core.hasher.hash(password));
    return await core.accountLock.run(async () => {
      const current = await core.users.get(username);
      // Only upgrade the hash we verified; a concurrent password change wins.
      if (current?.password_hash !== verified) return verified;
      await core.store.batch([
        core.users.putOp(username, { ...current, password_hash: hash, updated_at: nowSeconds(core.clock) }),
      ]);
      await syncDummyCost(core);
      return hash;
    });
  } catch (e) {
    core.log.warn({ err: (e as Error).message }, 'password re-hash failed; login continues');
    return verified;
  }
}

function providerDataProblem(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return `invalid type: ${describeJson(data)}, expected struct UsernamePasswordData`;
  }
  const obj = data as Record<string, unknown>;
  for (const field of ['username', 'password']) {
    if (!(field in obj)) return `missing field \`${field}\``;
    if (typeof obj[field] !== 'string') return `invalid type: ${describeJson(obj[field])}, expected a string`;
  }
  return undefined;
}
