import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SecretsError } from './errors.js';

/** Versioned marker of a sealed blob; its absence means legacy plaintext JSON (wire §4.8). */
export const SEALED_MAGIC = new Uint8Array([0x4d, 0x45, 0x41, 0x53, 0x31]); // "MEAS1"
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEK_BYTES = 32;

export const UNSEAL_FAILED = 'cannot unseal the signing secret: wrong key-encryption key?';

function assertKek(kek: Uint8Array): void {
  if (kek.length !== KEK_BYTES) {
    throw new SecretsError(`key-encryption key must be ${KEK_BYTES} bytes, got ${kek.length}`);
  }
}

/** `MEAS1` ‖ 12-byte random nonce ‖ AES-256-GCM ciphertext ‖ 16-byte tag; no AAD. */
export function seal(kek: Uint8Array, plaintext: Uint8Array): Uint8Array {
  assertKek(kek);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce, { authTagLength: TAG_BYTES });
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  const tag = cipher.getAuthTag();

  const out = new Uint8Array(SEALED_MAGIC.length + NONCE_BYTES + head.length + tail.length + TAG_BYTES);
  let at = 0;
  for (const part of [SEALED_MAGIC, nonce, head, tail, tag]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function isSealed(blob: Uint8Array): boolean {
  if (blob.length < SEALED_MAGIC.length + NONCE_BYTES) return false;
  for (let i = 0; i < SEALED_MAGIC.length; i++) if (blob[i] !== SEALED_MAGIC[i]) return false;
  return true;
}

/**
 * The plaintext of a sealed blob. Anything that is not a sealed blob is returned verbatim: the
 * Rust service stored secrets as plaintext JSON before it sealed them.
 */
export function unseal(kek: Uint8Array, blob: Uint8Array): Uint8Array {
  assertKek(kek);
  if (!isSealed(blob)) return blob;
  // Prefix + nonce but no room for a tag: truncated, so it cannot authenticate.
  if (blob.length < SEALED_MAGIC.length + NONCE_BYTES + TAG_BYTES) throw new SecretsError(UNSEAL_FAILED);
  const nonce = blob.subarray(SEALED_MAGIC.length, SEALED_MAGIC.length + NONCE_BYTES);
  const body = blob.subarray(SEALED_MAGIC.length + NONCE_BYTES, blob.length - TAG_BYTES);
  const tag = blob.subarray(blob.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, nonce, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    const head = decipher.update(body);
    const tail = decipher.final();
    const out = new Uint8Array(head.length + tail.length);
    out.set(head, 0);
    out.set(tail, head.length);
    return out;
  } catch (cause) {
    throw new SecretsError(UNSEAL_FAILED, { cause });
  }
}
