import { describe, expect, it } from 'vitest';
import { heldCacheSize, parseHeldPermission } from './held-cache.js';
import { GLOBAL, specific, type Permission } from './permission.js';
import { validatePermissions } from './validate.js';

const CONTEXT_LIST: Permission = { family: 'Context', verb: 'List', scope: GLOBAL };
const CONTEXT_CREATE: Permission = { family: 'Context', verb: 'Create', scope: GLOBAL };

describe('validatePermissions (§6)', () => {
  it.each<[string, string[], Permission[], boolean]>([
    [
      'step 1: the literal admin passes everything',
      ['admin'],
      [{ family: 'Package', verb: 'ListVersions', scope: specific('p') }],
      true,
    ],
    ['step 1 note: admin:x is honoured through parsing', ['admin:x'], [CONTEXT_LIST], true],
    ['step 1 note: admin[y] is honoured through parsing', ['admin[y]'], [{ family: 'Keys', verb: 'Delete' }], true],
    ['step 2: nothing required passes', [], [], true],
    ['step 2: nothing required passes garbage too', ['not-a-real-permission'], [], true],
    ['step 3: unparseable strings are dropped', ['context:subscribe', 'context:list'], [CONTEXT_LIST], true],
    ['step 3: only unparseable strings', ['context:subscribe', ''], [CONTEXT_LIST], false],
    ['step 4: every requirement must be met', ['context:list'], [CONTEXT_LIST, CONTEXT_CREATE], false],
    ['step 4: by different held strings', ['context:create', 'context:list'], [CONTEXT_LIST, CONTEXT_CREATE], true],
    [
      'step 4 (a): exact canonical string meets Package',
      ['package:list-packages'],
      [{ family: 'Package', verb: 'ListPackages', scope: GLOBAL }],
      true,
    ],
    [
      'step 4 (a): a non-canonical scoped Package string does not',
      ['package:list-versions[pkg]'],
      [{ family: 'Package', verb: 'ListVersions', scope: specific('pkg') }],
      false,
    ],
    [
      'step 4 (a): the canonical rendering does',
      ['package:list-versions[pkg,]'],
      [{ family: 'Package', verb: 'ListVersions', scope: specific('pkg') }],
      true,
    ],
    [
      'step 4 (a): package does not meet package:list-packages',
      ['package'],
      [{ family: 'Package', verb: 'ListPackages', scope: GLOBAL }],
      false,
    ],
    ['step 4 (b): hierarchy', ['keys'], [{ family: 'Keys', verb: 'GetPermissions', scope: specific('k1') }], true],
    ['step 5: deny', ['context:list'], [{ family: 'Admin' }], false],
  ])('%s', (_why, held, required, expected) => {
    expect(validatePermissions(held, required)).toBe(expected);
  });
});

describe('the held-string memo', () => {
  it('is bounded', () => {
    for (let i = 0; i < 3000; i++) parseHeldPermission(`context:list[ctx-${i}]`);
    expect(heldCacheSize()).toBeLessThanOrEqual(1024);
  });

  it('shares frozen values, so one caller cannot change another caller’s answer', () => {
    const p = parseHeldPermission('context:list[frozen-1]') as Permission & { scope: { ids: string[] } };
    expect(parseHeldPermission('context:list[frozen-1]')).toBe(p);
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.scope)).toBe(true);
    expect(Object.isFrozen(p.scope.ids)).toBe(true);
  });

  it('remembers strings that do not parse', () => {
    expect(parseHeldPermission('context:subscribe')).toBeUndefined();
    expect(parseHeldPermission('context:subscribe')).toBeUndefined();
  });

  it('parses very long strings without keeping them', () => {
    const long = `context:list[${'x'.repeat(1000)}]`;
    const before = heldCacheSize();
    expect(parseHeldPermission(long)).toEqual({ family: 'Context', verb: 'List', scope: specific('x'.repeat(1000)) });
    expect(heldCacheSize()).toBe(before);
  });
});
