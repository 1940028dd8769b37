import type { webcrypto } from 'node:crypto';
import type { SignatureCache, SignatureCacheEntry } from './verify.js';

/**
 * Tokens whose HMAC already verified, keyed by the exact token string. Only genuinely signed
 * tokens get in, so an attacker cannot fill it; it is bounded anyway (oldest evicted first).
 * Expiry and claim rules still run on every use; the key must still be in the verify set.
 */
export class BoundedSignatureCache implements SignatureCache {
  // Keyed by the signature segment: a lookup hashes 43 characters, not a ~500-character token.
  // The full token is compared on every hit, so a token that only shares a signature misses.
  private readonly entries = new Map<string, { token: string; entry: SignatureCacheEntry }>();
  constructor(private readonly max = 10_000) {}

  get(token: string) {
    const hit = this.entries.get(signatureOf(token));
    return hit !== undefined && hit.token === token ? hit.entry : undefined;
  }

  set(token: string, key: webcrypto.CryptoKey, payload: Record<string, unknown>): SignatureCacheEntry {
    const sig = signatureOf(token);
    if (!this.entries.has(sig) && this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const entry: SignatureCacheEntry = { key, payload: Object.freeze(payload) };
    this.entries.set(sig, { token, entry });
    return entry;
  }

  get size(): number {
    return this.entries.size;
  }
}

const signatureOf = (token: string): string => token.slice(token.lastIndexOf('.') + 1);
