import { describe, expect, it } from 'vitest';
import { generateSecretValue } from './generate.js';

describe('generateSecretValue', () => {
  it('is 43 unpadded base64url characters encoding 32 bytes', () => {
    const v = generateSecretValue();
    expect(v).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(v, 'base64url')).toHaveLength(32);
  });

  it('differs on every call', () => {
    const seen = new Set(Array.from({ length: 100 }, generateSecretValue));
    expect(seen.size).toBe(100);
  });
});
