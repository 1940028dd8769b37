import { describe, expect, it } from 'vitest';
import { methodMatch, scopeMatch, userMatch } from './match.js';
import { ANY_USER, GLOBAL, specific, specificUser, type Permission } from './permission.js';
import { parsePermission } from './parse.js';
import { satisfies } from './satisfies.js';

const sat = (h: string, r: string): boolean => satisfies(parsePermission(h), parsePermission(r));

describe('satisfies: one example per row of the §4 table', () => {
  it.each<[string, string, string, boolean]>([
    ['row 1', 'admin', 'keys:permissions:update[k]', true],
    ['row 1', 'admin', 'package:list-versions[p]', true],
    ['row 2', 'keys', 'admin', false],
    ['row 2', 'context', 'admin', false],
    ['row 3', 'application', 'application:uninstall[a]', true],
    ['row 4', 'application:list', 'application:list[a]', true],
    ['row 4', 'application:list[a]', 'application:list', false],
    ['row 4 (different verb → 26)', 'application:list', 'application:install', false],
    ['row 4 (verb vs All → 26)', 'application:list', 'application', false],
    ['row 5', 'blob', 'blob:add:url', true],
    ['row 5', 'blob', 'blob:remove[b]', true],
    ['row 6', 'blob:add', 'blob:add:file', true],
    ['row 6', 'blob:add', 'blob:add', true],
    ['row 7', 'blob:add:url', 'blob:add:url', true],
    ['row 7', 'blob:add:url', 'blob:add', false],
    ['row 8', 'blob:remove', 'blob:remove[b]', true],
    ['row 8', 'blob:remove[b]', 'blob:remove[c]', false],
    ['row 8 (Add vs Remove → 26)', 'blob:add', 'blob:remove', false],
    ['row 9', 'namespace[ns-1]', 'namespace:manage[ns-1]', true],
    ['row 9', 'namespace[ns-1]', 'namespace[ns-1]', true],
    ['row 9 (§4: scoped umbrella vs Global)', 'namespace[ns-1]', 'namespace:create', false],
    ['row 10', 'namespace:create', 'namespace:create[ns-1]', true],
    ['row 10 (verb vs All)', 'namespace:manage', 'namespace', false],
    ['row 11', 'group[g]', 'group:list[g]', true],
    ['row 11', 'group[g]', 'group:list[h]', false],
    ['row 12', 'group:create', 'group:create', true],
    ['row 12', 'group:create', 'group:manage', false],
    ['row 13', 'context', 'context[c]', true],
    ['row 13', 'context[c]', 'context[c]', true],
    ['row 14', 'context', 'context:create', false],
    ['row 14', 'context', 'context:alias', false],
    ['row 15', 'context:create', 'context:create[c]', true],
    ['row 15', 'context:delete[c]', 'context:delete[d]', false],
    ['row 15 (different verb)', 'context:list', 'context:delete', false],
    ['row 16', 'context:leave', 'context:leave[c,u]', true],
    ['row 16', 'context:invite[c,u]', 'context:invite[c,v]', false],
    ['row 16', 'context:invite[c,u]', 'context:invite[c]', false],
    ['row 16 (Leave vs Invite)', 'context:leave', 'context:invite', false],
    ['row 17', 'context:execute', 'context:execute[c,u,m]', true],
    ['row 17', 'context:execute[c,u,m]', 'context:execute[c,u,m]', true],
    ['row 17', 'context:execute[c,u]', 'context:execute[c,v]', false],
    ['row 18', 'context:alias[c]', 'context:alias:list:identity[c]', true],
    ['row 18', 'context:alias[c]', 'context:alias:list:identity', false],
    ['row 19', 'context:alias:list:identity', 'context:alias:list:identity[c]', true],
    ['row 19', 'context:alias:list:identity', 'context:alias:list:context', false],
    ['row 20', 'context:alias:delete:context', 'context:alias', false],
    ['row 21', 'context:capabilities:grant', 'context:capabilities:grant[c]', true],
    ['row 21', 'context:capabilities:grant', 'context:capabilities:revoke', false],
    ['row 22', 'context:application:update', 'context:application:update[c]', true],
    ['row 22', 'context:application:update[c]', 'context:application:update', false],
    ['row 23', 'keys', 'keys:clients:delete', true],
    ['row 24', 'keys:revoke', 'keys:delete', true],
    ['row 24', 'keys:permissions:get[k1]', 'keys:permissions:get[k1]', true],
    ['row 24', 'keys:permissions:get', 'keys:permissions:get[k1]', false],
    ['row 24', 'keys:permissions:get[k1]', 'keys:permissions:get', false],
    ['row 24', 'keys:create', 'keys', false],
    ['row 25', 'package', 'package:list-packages', false],
    ['row 25', 'package:list-packages', 'package:list-packages', false],
    ['row 25', 'package', 'package', false],
    ['row 26', 'context:execute', 'application:list', false],
    ['row 26', 'namespace', 'group', false],
    ['row 26', 'keys', 'blob:list', false],
  ])('%s: sat(%j, %j) → %s', (_row, h, r, expected) => {
    expect(sat(h, r)).toBe(expected);
  });

  it('row 24 compares Keys scopes element by element', () => {
    const two: Permission = { family: 'Keys', verb: 'GetPermissions', scope: specific('a', 'b') };
    expect(satisfies(two, { family: 'Keys', verb: 'GetPermissions', scope: specific('a', 'b') })).toBe(true);
    expect(satisfies(two, { family: 'Keys', verb: 'GetPermissions', scope: specific('b', 'a') })).toBe(false);
    expect(satisfies(two, { family: 'Keys', verb: 'GetPermissions', scope: specific('a') })).toBe(false);
  });
});

describe('§4 consequences', () => {
  it('the context binding a client key carries grants no route by itself', () => {
    for (const r of ['context:list', 'context:execute', 'context:create', 'context:execute[ctx-1]']) {
      expect(sat('context[ctx-1,member-pk-1]', r)).toBe(false);
    }
  });

  it('namespace, group and context:alias are umbrellas subject to scope', () => {
    expect(sat('namespace[ns-1]', 'namespace:create')).toBe(false);
    expect(sat('group[g-1]', 'group:create')).toBe(false);
    expect(sat('context:alias[c-1]', 'context:alias:create:context')).toBe(false);
  });
});

describe('§5 scope, user and method matching', () => {
  it.each<[string, boolean, boolean]>([
    ['Global / Global', scopeMatch(GLOBAL, GLOBAL), true],
    ['Global / Specific', scopeMatch(GLOBAL, specific('a')), true],
    ['Specific[a,b] / Specific[b]', scopeMatch(specific('a', 'b'), specific('b')), true],
    ['Specific[a] / Specific[a,b]', scopeMatch(specific('a'), specific('a', 'b')), false],
    ['Specific[a] / Specific[]', scopeMatch(specific('a'), specific()), true],
    ['Specific[a] / Global', scopeMatch(specific('a'), GLOBAL), false],
    ['Specific[A] / Specific[a] (case-sensitive)', scopeMatch(specific('A'), specific('a')), false],
    ['Any / Any', userMatch(ANY_USER, ANY_USER), true],
    ['Any / u', userMatch(ANY_USER, specificUser('u')), true],
    ['u / u', userMatch(specificUser('u'), specificUser('u')), true],
    ['u / v', userMatch(specificUser('u'), specificUser('v')), false],
    ['u / Any', userMatch(specificUser('u'), ANY_USER), false],
    ['absent / absent', methodMatch(undefined, undefined), true],
    ['absent / m', methodMatch(undefined, 'm'), true],
    ['m / absent', methodMatch('m', undefined), true],
    ['m / m', methodMatch('m', 'm'), true],
    ['m / M', methodMatch('m', 'M'), false],
  ])('%s → %s', (_case, actual, expected) => {
    expect(actual).toBe(expected);
  });
});
