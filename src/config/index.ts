export { buildCsp } from './csp.js';
export type { CspSources } from './csp.js';
export { EMBEDDED_OVERRIDES, STANDALONE_DEFAULTS } from './defaults.js';
export { coerceEnvValue, envVarKey } from './env.js';
export { ConfigError, isConfigError } from './errors.js';
export { configFromPartial, defaultConfig, loadConfig, resolveEmbeddedConfig } from './load.js';
export type { AuthConfigInput, LoadOptions, ResolvedConfig } from './load.js';
export { createConfigSchema, LEAF_KEYS, OPTIONAL_STRING_KEYS } from './schema.js';
export type { AuthConfig, ConfigMode, LeafKind } from './schema.js';
export {
  canonicalIp,
  isHeaderValue,
  isHttpOrigin,
  isIpOrCidr,
  isOrigin,
  isToken,
  listenAddrsConflict,
  meetsArgon2Floor,
  normalizeOrigin,
  parseListenAddr,
} from './validators.js';
export type { ListenAddr } from './validators.js';
