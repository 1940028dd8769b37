import { describe, expect, it } from 'vitest';
import { memoize } from './memo.js';

describe('memoize', () => {
  it('calls the function once per argument, undefined results included', () => {
    const calls: string[] = [];
    const f = memoize((s: string) => {
      calls.push(s);
      return s === 'none' ? undefined : `k:${s}`;
    });
    expect([f('a'), f('a'), f('none'), f('none'), f('b')]).toEqual(['k:a', 'k:a', undefined, undefined, 'k:b']);
    expect(calls).toEqual(['a', 'none', 'b']);
  });

  it('forgets everything when full, then remembers again', () => {
    const calls: string[] = [];
    const f = memoize((s: string) => {
      calls.push(s);
      return s.length;
    }, 2);
    f('a');
    f('bb');
    f('ccc'); // full: cleared, then 'ccc' kept
    f('a');
    f('ccc');
    expect(calls).toEqual(['a', 'bb', 'ccc', 'a']);
  });
});
