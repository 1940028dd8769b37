import { describe, expect, it } from 'vitest';
import { ANY_USER, GLOBAL, specific, specificUser, type Permission, type ResourceScope, type UserScope } from './permission.js';
import { parsePermission } from './parse.js';
import { renderPermission } from './render.js';

describe('renderPermission: the F(S, U, M) table of §3', () => {
  const exec = (scope: ResourceScope, user: UserScope, method?: string): Permission =>
    method === undefined
      ? { family: 'Context', verb: 'Execute', scope, user }
      : { family: 'Context', verb: 'Execute', scope, user, method };
  it.each<[string, Permission, string]>([
    ['Global, Any, –', exec(GLOBAL, ANY_USER), 'context:execute'],
    ['Specific[c], Any, –', exec(specific('c'), ANY_USER), 'context:execute[c,]'],
    ['Global, u, –', exec(GLOBAL, specificUser('u')), 'context:execute[,u]'],
    ['Specific[c], u, –', exec(specific('c'), specificUser('u')), 'context:execute[c,u]'],
    ['Global, Any, m', exec(GLOBAL, ANY_USER, 'm'), 'context:execute[,,m]'],
    ['Specific[c], Any, m', exec(specific('c'), ANY_USER, 'm'), 'context:execute[c,,m]'],
    ['Global, u, m', exec(GLOBAL, specificUser('u'), 'm'), 'context:execute[,u,m]'],
    ['Specific[c], u, m', exec(specific('c'), specificUser('u'), 'm'), 'context:execute[c,u,m]'],
  ])('%s → %j', (_row, p, s) => {
    expect(renderPermission(p)).toBe(s);
  });
});

describe('renderPermission: the full rendering table of §3', () => {
  const S = specific('s');
  it.each<[Permission, string]>([
    [{ family: 'Admin' }, 'admin'],
    [{ family: 'Application', verb: 'All' }, 'application'],
    [{ family: 'Package', verb: 'All' }, 'package'],
    [{ family: 'Blob', verb: 'All' }, 'blob'],
    [{ family: 'Application', verb: 'List', scope: S }, 'application:list[s,]'],
    [{ family: 'Application', verb: 'Install', scope: GLOBAL }, 'application:install'],
    [{ family: 'Application', verb: 'Uninstall', scope: S }, 'application:uninstall[s,]'],
    [{ family: 'Package', verb: 'ListPackages', scope: GLOBAL }, 'package:list-packages'],
    [{ family: 'Package', verb: 'ListVersions', scope: S }, 'package:list-versions[s,]'],
    [{ family: 'Package', verb: 'GetLatestVersion', scope: S }, 'package:get-latest-version[s,]'],
    [{ family: 'Blob', verb: 'Add', add: 'All' }, 'blob:add'],
    [{ family: 'Blob', verb: 'Add', add: 'Stream' }, 'blob:add:stream'],
    [{ family: 'Blob', verb: 'Add', add: 'File' }, 'blob:add:file'],
    [{ family: 'Blob', verb: 'Add', add: 'Url' }, 'blob:add:url'],
    [{ family: 'Blob', verb: 'Remove', scope: S }, 'blob:remove[s,]'],
    [{ family: 'Blob', verb: 'List', scope: GLOBAL }, 'blob:list'],
    [{ family: 'Blob', verb: 'Get', scope: S }, 'blob:get[s,]'],
    [{ family: 'Namespace', verb: 'All', scope: specific('ns-1') }, 'namespace[ns-1,]'],
    [{ family: 'Namespace', verb: 'Create', scope: GLOBAL }, 'namespace:create'],
    [{ family: 'Namespace', verb: 'List', scope: S }, 'namespace:list[s,]'],
    [{ family: 'Namespace', verb: 'Manage', scope: S }, 'namespace:manage[s,]'],
    [{ family: 'Group', verb: 'All', scope: GLOBAL }, 'group'],
    [{ family: 'Group', verb: 'Create', scope: S }, 'group:create[s,]'],
    [{ family: 'Group', verb: 'List', scope: S }, 'group:list[s,]'],
    [{ family: 'Group', verb: 'Manage', scope: S }, 'group:manage[s,]'],
    [{ family: 'Context', verb: 'All', scope: S }, 'context[s,]'],
    [{ family: 'Context', verb: 'Create', scope: S }, 'context:create[s,]'],
    [{ family: 'Context', verb: 'List', scope: specific('ctx-1') }, 'context:list[ctx-1,]'],
    [{ family: 'Context', verb: 'Delete', scope: S }, 'context:delete[s,]'],
    [{ family: 'Context', verb: 'Leave', scope: S, user: specificUser('u') }, 'context:leave[s,u]'],
    [{ family: 'Context', verb: 'Invite', scope: GLOBAL, user: ANY_USER }, 'context:invite'],
    [{ family: 'Context', verb: 'Capabilities.Grant', scope: S }, 'context:capabilities:grant[s]'],
    [{ family: 'Context', verb: 'Capabilities.Revoke', scope: GLOBAL }, 'context:capabilities:revoke'],
    [{ family: 'Context', verb: 'Application.Update', scope: S }, 'context:application:update[s]'],
    [{ family: 'Context', verb: 'Alias.All', scope: S }, 'context:alias[s]'],
    [{ family: 'Context', verb: 'Alias.Create', aliasType: 'application', scope: GLOBAL }, 'context:alias:create:application'],
    [{ family: 'Context', verb: 'Alias.List', aliasType: 'context', scope: S }, 'context:alias:list:context[s]'],
    [{ family: 'Context', verb: 'Alias.Lookup', aliasType: 'identity', scope: S }, 'context:alias:lookup:identity[s]'],
    [{ family: 'Context', verb: 'Alias.Delete', aliasType: 'context', scope: S }, 'context:alias:delete:context[s]'],
    [{ family: 'Keys', verb: 'All' }, 'keys'],
    [{ family: 'Keys', verb: 'Create' }, 'keys:create'],
    [{ family: 'Keys', verb: 'List' }, 'keys:list'],
    [{ family: 'Keys', verb: 'Delete' }, 'keys:delete'],
    [{ family: 'Keys', verb: 'ListClients' }, 'keys:clients:list'],
    [{ family: 'Keys', verb: 'DeleteClient' }, 'keys:clients:delete'],
    [{ family: 'Keys', verb: 'GetPermissions', scope: S }, 'keys:permissions:get[s]'],
    [{ family: 'Keys', verb: 'UpdatePermissions', scope: GLOBAL }, 'keys:permissions:update'],
  ])('%j → %j', (p, s) => {
    expect(renderPermission(p)).toBe(s);
  });
});

describe('renderPermission: hand-built scopes render as Rust formats them', () => {
  it.each<[string, Permission, string]>([
    ['only the first id', { family: 'Application', verb: 'List', scope: specific('a', 'b') }, 'application:list[a,]'],
    ['only the first id (Q)', { family: 'Keys', verb: 'GetPermissions', scope: specific('a', 'b') }, 'keys:permissions:get[a]'],
    ['no ids: nothing', { family: 'Context', verb: 'List', scope: specific() }, 'context:list'],
    ['no ids: nothing (Q)', { family: 'Context', verb: 'Alias.All', scope: specific() }, 'context:alias'],
    ['an empty id: every entry empty, nothing', { family: 'Context', verb: 'List', scope: specific('') }, 'context:list'],
    ['an empty id (Q): brackets kept', { family: 'Context', verb: 'Alias.All', scope: specific('') }, 'context:alias[]'],
    [
      'an empty id with a method',
      { family: 'Context', verb: 'Execute', scope: specific(''), user: ANY_USER, method: 'm' },
      'context:execute[,,m]',
    ],
  ])('%s', (_why, p, s) => {
    expect(renderPermission(p)).toBe(s);
  });
});

describe('round trips (§3)', () => {
  it.each([
    'admin',
    'application',
    'application:list',
    'application:install',
    'application:uninstall',
    'package',
    'package:list-packages',
    'package:list-versions',
    'package:get-latest-version',
    'blob',
    'blob:add',
    'blob:add:stream',
    'blob:add:file',
    'blob:add:url',
    'blob:remove',
    'context',
    'context:create',
    'context:list',
    'context:delete',
    'context:leave',
    'context:invite',
    'context:execute',
    'context:capabilities:grant',
    'context:capabilities:revoke',
    'context:application:update',
    'context:alias:lookup:identity',
    'keys',
    'keys:create',
    'keys:list',
    'keys:delete',
    'keys:clients:list',
    'keys:clients:delete',
    'keys:permissions:get',
    'keys:permissions:update',
    'keys:permissions:get[k1]',
    'context:execute[c,u,m]',
    'context:leave[,u]',
  ])('canonical %j round-trips exactly', (s) => {
    expect(renderPermission(parsePermission(s))).toBe(s);
  });

  it.each([
    ['keys:revoke', 'keys:delete'],
    ['keys:clients', 'keys:clients:list'],
    ['keys:permissions', 'keys:permissions:get'],
    ['admin:x', 'admin'],
    ['context:', 'context'],
    ['context[ctx-1,member-pk-1]', 'context[ctx-1,]'],
    ['blob:add[x]', 'blob:add'],
    ['context:list[ a ]', 'context:list[a,]'],
  ])('%j renders as %j and re-parses to the same value', (s, rendered) => {
    const p = parsePermission(s);
    expect(renderPermission(p)).toBe(rendered);
    expect(parsePermission(rendered)).toEqual(p);
  });
});
