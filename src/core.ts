import type { AuthConfig } from './config/schema.js';
import type { KeyManager } from './keys/key-manager.js';
import type { PasswordHasher } from './providers/password-hasher.js';
import type { UserStore } from './providers/user-record.js';
import type { HashPool } from './auth/hash-pool.js';
import type { SecretManager } from './secrets/manager.js';
import type { Store } from './storage/store.js';
import type { SessionManager } from './tokens/sessions.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/logger.js';
import type { MemberLocks, SectionLock } from './storage/store.js';
import type { SignatureCache } from './tokens/verify.js';
import type { Metrics } from './metrics/index.js';
import type { SecondFactorStore } from './second-factor/records.js';

/** The service's parts, shared by the domain operations (login, refresh, provisioning…). */
export interface Core {
  readonly config: AuthConfig;
  readonly clock: Clock;
  readonly store: Store;
  readonly secrets: SecretManager;
  readonly keys: KeyManager;
  readonly sessions: SessionManager;
  readonly users: UserStore;
  readonly hasher: PasswordHasher;
  readonly hashPool: HashPool;
  readonly log: Logger;
  /**
   * Serialises read-modify-write sequences on accounts and keys, across every process sharing
   * the store (`Store.exclusive('account')`).
   */
  readonly accountLock: SectionLock;
  /**
   * The session lock's exclusive side: for writers that touch many sessions (revoking every
   * session of a key or an account, the sweep). Excludes every `sessionLocks` section, so a
   * revoked session can never be overwritten by a stale live copy. Taken after accountLock.
   */
  readonly sessionLock: SectionLock;
  /**
   * The session lock's shared side. `run(sid, fn)`: a read-modify-write of one session (the
   * refresh exchange, logout); sections of one sid serialise, different sids run side by side,
   * and all of them wait for (and hold off) `sessionLock`. `shared(fn)`: no session of its own
   * (a login opening a new one), only kept apart from `sessionLock`.
   */
  readonly sessionLocks: MemberLocks;
  /** Tokens whose signature already verified (the hot path skips the HMAC). */
  readonly signatureCache: SignatureCache;
  readonly metrics: Metrics;
  /** Passkeys, second-factor policies, WebAuthn challenges (issue 13). */
  readonly secondFactors: SecondFactorStore;
}
