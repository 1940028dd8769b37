import { describe, expect, it } from 'vitest';
import { effectivePermissions } from './effective.js';

describe('effectivePermissions (wire §4.5 step 7)', () => {
  it('keeps claim order and exact-string matches only', () => {
    expect(effectivePermissions(['b', 'a', 'context:list[c]'], ['a', 'b', 'context:list[c,]'])).toEqual(['b', 'a']);
  });

  it('behaves the same for large key lists', () => {
    const keyPerms = Array.from({ length: 40 }, (_, i) => `context:list[c${i}]`);
    expect(effectivePermissions(['context:list[c39]', 'admin', 'context:list[c0]'], keyPerms)).toEqual([
      'context:list[c39]',
      'context:list[c0]',
    ]);
  });

  it('an empty key list grants nothing', () => {
    expect(effectivePermissions(['admin'], [])).toEqual([]);
  });
});
