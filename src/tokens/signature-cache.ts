import type { webcrypto } from 'node:crypto';
import type { SignatureCache, SignatureCacheEntry } from './verify.js';

/**
 * Tokens whose HMAC already verified, keyed by the exact token string. Only genuinely signed
 * tokens get in, so an attacker cannot fill it; it is bounded anyway (oldest evicted first).
 * Expiry and claim rules still run on every use; the key must still be in the verify set.
 */
export class BoundedSignatureCache implements SignatureCache {
  private readonly entries = new Map<string, SignatureCacheEntry>();
  constructor(private readonly max = 10_000) {}

  get(token: string) {
    return this.entries.get(token);
  }

  set(token: string, key: webcrypto.CryptoKey, payload: Record<string, unknown>): SignatureCacheEntry {
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const entry: SignatureCacheEntry = { key, payload: Object.freeze(payload) };
    this.entries.set(token, entry);
    return entry;
  }

  get size(): number {
    return this.entries.size;
  }
}
