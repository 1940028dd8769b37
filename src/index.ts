/** The package root: the in-process API for Node.js node servers. */
export { createAuth, type Auth, type CreateAuthOptions } from './embed.js';
export type { AuthIdentity, GuardEnv, GuardOptions } from './http/guard.js';
export type { AuthConfig } from './config/schema.js';
export type { AuthConfigInput } from './config/load.js';
export { ConfigError } from './config/errors.js';
