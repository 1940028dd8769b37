import { randomBytes } from 'node:crypto';

/** Raw length of a signing secret, and of a key-encryption key. */
export const SECRET_BYTES = 32;

/**
 * A fresh signing secret in its text form: 32 CSPRNG bytes as unpadded base64url (43 chars).
 * The text itself, not the decoded bytes, is the HMAC key (wire §4.1), as in Rust.
 */
export function generateSecretValue(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}
