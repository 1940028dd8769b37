/** The package root: the in-process API for Node.js node servers (wire §5.13, §7.6). */
export { createAuth, type Auth, type BoundAddress, type CreateAuthOptions } from './embed.js';
export type { AuthIdentity, GuardEnv, GuardOptions } from './http/guard.js';
export type { AuthConfig } from './config/schema.js';
export { createRemoteVerifier, type RemoteAlgorithm, type RemoteVerifierOptions } from './verifier.js';
export type { TokenClaims } from './tokens/claims.js';
export type { AuthConfigInput } from './config/load.js';
export { ConfigError, isConfigError } from './config/errors.js';
export { StorageLockedError, StorageOpenError } from './storage/level.js';
export type { Clock } from './util/clock.js';
export type { Logger } from './util/logger.js';
