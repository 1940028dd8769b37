import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretsError } from './errors.js';
import { isSealed, seal, unseal } from './seal.js';

const kek = new Uint8Array(randomBytes(32));
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

describe('seal / unseal', () => {
  const secret = 'pHk0cQ3m1YgV7Zr2nKx8s9wT4uJ6aLdE5bF0cG1hI2j';
  const plaintext = new TextEncoder().encode(JSON.stringify({ value: secret }));

  it('round-trips; the blob is MEAS1 ‖ nonce ‖ ciphertext ‖ tag without the secret text', () => {
    const blob = seal(kek, plaintext);
    expect(text(blob.subarray(0, 5))).toBe('MEAS1');
    expect(blob).toHaveLength(5 + 12 + plaintext.length + 16);
    expect(text(blob)).not.toContain(secret);
    expect(unseal(kek, blob)).toEqual(plaintext);
  });

  it('uses a fresh nonce per seal', () => {
    const a = seal(kek, plaintext);
    const b = seal(kek, plaintext);
    expect(Buffer.from(a.subarray(5, 17)).equals(Buffer.from(b.subarray(5, 17)))).toBe(false);
    expect(unseal(kek, b)).toEqual(plaintext);
  });

  it('fails with a wrong KEK', () => {
    const blob = seal(kek, plaintext);
    const other = new Uint8Array(randomBytes(32));
    expect(() => unseal(other, blob)).toThrow(SecretsError);
    expect(() => unseal(other, blob)).toThrow('cannot unseal the signing secret: wrong key-encryption key?');
  });

  it('fails on a tampered ciphertext', () => {
    const blob = seal(kek, plaintext);
    blob[20] = (blob[20] ?? 0) ^ 1;
    expect(() => unseal(kek, blob)).toThrow('cannot unseal the signing secret: wrong key-encryption key?');
  });

  it('fails on a prefixed blob too short to hold a tag', () => {
    const blob = seal(kek, plaintext).subarray(0, 20);
    expect(isSealed(blob)).toBe(true);
    expect(() => unseal(kek, blob)).toThrow('cannot unseal the signing secret: wrong key-encryption key?');
  });

  it('returns a blob without the prefix verbatim (legacy plaintext JSON)', () => {
    expect(isSealed(plaintext)).toBe(false);
    expect(unseal(kek, plaintext)).toEqual(plaintext);
  });

  it('returns a MEAS1 blob shorter than 17 bytes verbatim', () => {
    const short = new TextEncoder().encode('MEAS1short');
    expect(isSealed(short)).toBe(false);
    expect(unseal(kek, short)).toEqual(short);
  });

  it('rejects a KEK that is not 32 bytes', () => {
    expect(() => seal(new Uint8Array(16), plaintext)).toThrow('key-encryption key must be 32 bytes, got 16');
  });
});
