import { describe, expect, it } from 'vitest';
import { AuthError, unavailableFrom } from './errors.js';
import { StoreUnavailableError } from './storage/postgres.js';

describe('unavailableFrom', () => {
  it('turns a database outage anywhere in the cause chain into a 503 unavailable with Retry-After', () => {
    const outage = new StoreUnavailableError('database unavailable: connect ECONNREFUSED');
    const wrapped = new AuthError('internal', 'Failed to store client key', { cause: outage });
    for (const e of [outage, wrapped, new Error('outer', { cause: wrapped })]) {
      const mapped = unavailableFrom(e);
      expect(mapped?.code).toBe('unavailable');
      expect(mapped?.message).toBe('Service temporarily unavailable: the database cannot be reached');
      expect(mapped?.retryAfter).toBe(1);
    }
  });

  it('leaves every other failure alone', () => {
    expect(unavailableFrom(new AuthError('internal', 'Failed to store client key'))).toBeUndefined();
    expect(unavailableFrom(new Error('boom', { cause: new TypeError('x') }))).toBeUndefined();
    expect(unavailableFrom('not an error')).toBeUndefined();
  });
});
