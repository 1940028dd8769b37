export { SecretsError } from './errors.js';
export { generateSecretValue, SECRET_BYTES } from './generate.js';
export { seal, unseal, isSealed, SEALED_MAGIC, UNSEAL_FAILED } from './seal.js';
export { resolveKek, kekFilePath, KEK_ENV, type ResolveKekOptions } from './kek.js';
export { PRIMARY_KEY, BACKUP_KEY, type SecretRecord } from './record.js';
export {
  SecretManager,
  ROTATION_CHECK_INTERVAL_MS,
  type CryptoKey,
  type SecretLog,
  type SecretManagerOptions,
} from './manager.js';
