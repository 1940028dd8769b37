import type { webcrypto } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { cacheBudgetBytes } from '../storage/cache.js';
import type { SignatureCache, SignatureCacheEntry } from './verify.js';

interface Slot {
  token: string;
  entry: SignatureCacheEntry;
}

// What one entry holds besides the token text: the payload, the checked claims, the map slot.
const ENTRY_OVERHEAD_BYTES = 1024;

/** An entry's approximate footprint: the token (one byte per character) twice over, plus the rest. */
const sizeOf = (slot: Slot): number => 2 * slot.token.length + ENTRY_OVERHEAD_BYTES;

/**
 * The byte budget when `jwt.verified_cache_mb` is 0 (auto): the same rule as the store cache's
 * (cacheBudgetBytes: 1 % of the heap limit, 4–8 MB, about 4k typical tokens). A miss costs one
 * synchronous HMAC and a JSON parse (tens of microseconds), so the cache only has to hold the hot
 * working set, never every token ever seen.
 */
export const autoBudgetBytes: (heapLimit?: number) => number = cacheBudgetBytes;

/**
 * Tokens whose HMAC already verified, keyed by the exact token string, least recently used
 * evicted first within a byte budget. Only genuinely signed tokens get in, so an attacker cannot
 * fill it with junk. Expiry and claim rules still run on every use; the key must still be in the
 * verify set.
 */
export class BoundedSignatureCache implements SignatureCache {
  // Keyed by the signature segment: a lookup hashes 43 characters, not a ~500-character token.
  // The full token is compared on every hit, so a token that only shares a signature misses.
  private readonly entries: LRUCache<string, Slot>;

  /** `budgetBytes` ≤ 0 selects autoBudgetBytes(). */
  constructor(budgetBytes = 0) {
    const maxSize = budgetBytes > 0 ? budgetBytes : autoBudgetBytes();
    this.entries = new LRUCache<string, Slot>({ maxSize, sizeCalculation: sizeOf });
  }

  get(token: string) {
    const hit = this.entries.get(signatureOf(token));
    return hit !== undefined && hit.token === token ? hit.entry : undefined;
  }

  set(token: string, key: webcrypto.CryptoKey, payload: Record<string, unknown>): SignatureCacheEntry {
    const entry: SignatureCacheEntry = { key, payload: Object.freeze(payload) };
    this.entries.set(signatureOf(token), { token, entry });
    return entry;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Bytes held by the current entries, as counted against the budget. */
  get bytes(): number {
    return this.entries.calculatedSize;
  }
}

const signatureOf = (token: string): string => token.slice(token.lastIndexOf('.') + 1);
