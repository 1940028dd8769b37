/**
 * permissions.md §11: every numbered acceptance line as a table row named `line N`. Where a line
 * is an HTTP behaviour, the row pins the permission-model part of it; the status codes and
 * headers belong to the HTTP suites.
 */
import { describe, expect, it } from 'vitest';
import type { KeyRecord } from '../keys/key.js';
import {
  allowsRoute,
  ANY_USER,
  checkForwardedRoute,
  checkGrant,
  clientKeyPermissions,
  determineRequiredPermissions,
  effectivePermissions,
  GLOBAL,
  holdsLiteralAdmin,
  isValidForNode,
  keyHasPermission,
  parsePermission,
  renderPermission,
  satisfies,
  specific,
  specificUser,
  validatePermissions,
  type Permission,
} from './index.js';

const req = (method: string, path: string): string[] => determineRequiredPermissions(method, path).map(renderPermission);
const sat = (h: string, r: string): boolean => satisfies(parsePermission(h), parsePermission(r));
const grant = (caller: string[], add: string[]): string => {
  const refusal = checkGrant(caller, add);
  return refusal === undefined ? 'ok' : `${refusal.status} "${refusal.message}"`;
};
const parseError = (s: string): string => {
  try {
    parsePermission(s);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${s} parsed`);
};

function key(fields: Partial<KeyRecord> & { permissions: string[] }): KeyRecord {
  return {
    key_type: 'Root',
    public_key: 'pk',
    auth_method: 'user_password',
    root_key_id: null,
    name: null,
    created_at: 1,
    revoked_at: null,
    expires_at: null,
    ...fields,
  };
}

describe('§11.1 grant check (PUT permissions)', () => {
  it.each<[string, string[], string[], string]>([
    ['line 1', ['keys:permissions:update'], ['admin'], '403 "Cannot grant permissions that exceed your own"'],
    ['line 2', ['keys:permissions:update', 'keys:list'], ['keys:create'], '403 "Cannot grant permissions that exceed your own"'],
    ['line 3', ['admin'], ['admin', 'keys:create', 'context:execute'], 'ok'],
    ['line 4', ['keys:permissions:update', 'keys:create', 'keys:list'], ['keys:create', 'keys:list'], 'ok'],
    ['line 5', ['context:list'], ['context:list[ctx-1]'], 'ok'],
    ['line 6', ['context:list[ctx-1]'], ['context:list'], '403 "Cannot grant permissions that exceed your own"'],
    [
      'line 7',
      ['admin'],
      ['not-a-real-permission'],
      '400 "Invalid permission format: Unknown permission category: not-a-real-permission"',
    ],
    ['line 8', ['keys:permissions:update'], [], 'ok'],
    [
      'line 10',
      ['admin'],
      ['not-a-real-permission'],
      '400 "Invalid permission format: Unknown permission category: not-a-real-permission"',
    ],
  ])('%s: grant(%j; %j) → %s', (_line, caller, add, expected) => {
    expect(grant(caller, add)).toBe(expected);
  });

  it('line 9: PUT /admin/keys/<id>/permissions needs admin at the middleware, so [keys:permissions:update] is denied there', () => {
    expect(req('PUT', '/admin/keys/key-1/permissions')).toEqual(['admin']);
    expect(allowsRoute(['keys:permissions:update'], 'PUT', '/admin/keys/key-1/permissions')).toBe(false);
  });
});

describe('§11.2 client-key minting', () => {
  const adminRoot = key({ permissions: ['admin'] });

  it('line 11: an admin root key may mint ["admin"] client keys, repeatedly', () => {
    expect(holdsLiteralAdmin(['admin'])).toBe(true);
    expect(clientKeyPermissions(adminRoot, '', '', ['admin'])).toEqual({ ok: true, permissions: ['admin'] });
    expect(clientKeyPermissions(adminRoot, '', '', ['admin'])).toEqual({ ok: true, permissions: ['admin'] });
  });

  it.each<[string, KeyRecord, string, boolean]>([
    ['line 12', key({ permissions: ['admin'] }), 'admin', true],
    ['line 12 (root shortcut)', key({ permissions: ['keys:list'] }), 'admin:x', true],
    ['line 12 (no shortcut for admin[x])', key({ permissions: ['keys:list'] }), 'admin[x]', false],
    ['line 13', key({ permissions: ['package:list-packages'] }), 'package:list-packages', false],
    ['line 14 (revoked)', key({ permissions: ['admin'], revoked_at: 5 }), 'admin', false],
    ['line 14 (unparseable)', key({ permissions: ['admin'] }), 'not-a-real-permission', false],
  ])('%s: hasPerm(%#) %j → %s', (_line, k, s, expected) => {
    expect(keyHasPermission(k, s)).toBe(expected);
  });

  it('line 15: the context binding comes first and a duplicate of it is dropped', () => {
    expect(clientKeyPermissions(adminRoot, 'ctx-1', 'pk-1', ['context:execute', 'context[ctx-1,pk-1]'])).toEqual({
      ok: true,
      permissions: ['context[ctx-1,pk-1]', 'context:execute'],
    });
  });

  it('line 16: context:subscribe does not parse, so even an admin root key cannot hand it on', () => {
    expect(clientKeyPermissions(adminRoot, '', '', ['context:list', 'context:subscribe'])).toEqual({
      ok: false,
      code: 'parent_lacks_permission',
      status: 400,
      message: 'Root key does not have permission: context:subscribe',
      permission: 'context:subscribe',
    });
  });
});

describe('§11.3 parsing and rendering', () => {
  it.each<[string, string, Permission]>([
    ['line 17', 'admin', { family: 'Admin' }],
    ['line 18', 'application:list[ctx1]', { family: 'Application', verb: 'List', scope: specific('ctx1') }],
    [
      'line 19',
      'context:execute[ctx1,user1,method1]',
      { family: 'Context', verb: 'Execute', scope: specific('ctx1'), user: specificUser('user1'), method: 'method1' },
    ],
    ['line 21', 'context:alias:create:context', { family: 'Context', verb: 'Alias.Create', aliasType: 'context', scope: GLOBAL }],
    [
      'line 22',
      'context:alias:create:identity[ctx-123]',
      { family: 'Context', verb: 'Alias.Create', aliasType: 'identity', scope: specific('ctx-123') },
    ],
    [
      'line 23',
      'context:alias:lookup:application[alias-name]',
      { family: 'Context', verb: 'Alias.Lookup', aliasType: 'application', scope: specific('alias-name') },
    ],
    [
      'line 24',
      'context:alias:list:identity[ctx-123]',
      { family: 'Context', verb: 'Alias.List', aliasType: 'identity', scope: specific('ctx-123') },
    ],
    [
      'line 25',
      'context:alias:delete:context[alias-name]',
      { family: 'Context', verb: 'Alias.Delete', aliasType: 'context', scope: specific('alias-name') },
    ],
    [
      'line 26 (grant)',
      'context:capabilities:grant[ctx-123]',
      { family: 'Context', verb: 'Capabilities.Grant', scope: specific('ctx-123') },
    ],
    [
      'line 26 (revoke)',
      'context:capabilities:revoke[ctx-123]',
      { family: 'Context', verb: 'Capabilities.Revoke', scope: specific('ctx-123') },
    ],
    [
      'line 27',
      'context:application:update[ctx-123]',
      { family: 'Context', verb: 'Application.Update', scope: specific('ctx-123') },
    ],
    ['line 32 (admin:anything)', 'admin:anything', { family: 'Admin' }],
    ['line 32 (admin[x])', 'admin[x]', { family: 'Admin' }],
    ['line 32 (keys:create:x)', 'keys:create:x', { family: 'Keys', verb: 'Create' }],
    ['line 33 (missing ])', 'context:list[abc', { family: 'Context', verb: 'List', scope: GLOBAL }],
    ['line 33 ([])', 'context:list[]', { family: 'Context', verb: 'List', scope: GLOBAL }],
    ['line 33 (trimmed)', 'context:list[ a ]', { family: 'Context', verb: 'List', scope: specific('a') }],
    ['line 33 (user dropped)', 'context:list[a,b]', { family: 'Context', verb: 'List', scope: specific('a') }],
    ['line 34 (context:)', 'context:', { family: 'Context', verb: 'All', scope: GLOBAL }],
    ['line 34 (binding)', 'context[ctx-1,member-pk-1]', { family: 'Context', verb: 'All', scope: specific('ctx-1') }],
    ['line 36 (keys:revoke)', 'keys:revoke', { family: 'Keys', verb: 'Delete' }],
    ['line 36 (keys:clients)', 'keys:clients', { family: 'Keys', verb: 'ListClients' }],
    ['line 36 (keys:permissions)', 'keys:permissions', { family: 'Keys', verb: 'GetPermissions', scope: GLOBAL }],
  ])('%s: parse(%j)', (_line, s, value) => {
    expect(parsePermission(s)).toEqual(value);
  });

  it.each<[string, Permission, string]>([
    ['line 20 (Admin)', { family: 'Admin' }, 'admin'],
    ['line 20 (Keys.Create)', { family: 'Keys', verb: 'Create' }, 'keys:create'],
    [
      'line 20 (Alias.Lookup)',
      { family: 'Context', verb: 'Alias.Lookup', aliasType: 'identity', scope: specific('ctx-123') },
      'context:alias:lookup:identity[ctx-123]',
    ],
    ['line 36 (keys:revoke)', parsePermission('keys:revoke'), 'keys:delete'],
    ['line 36 (keys:clients)', parsePermission('keys:clients'), 'keys:clients:list'],
    ['line 36 (keys:permissions)', parsePermission('keys:permissions'), 'keys:permissions:get'],
    ['line 38 ([,u])', { family: 'Context', verb: 'Execute', scope: GLOBAL, user: specificUser('u') }, 'context:execute[,u]'],
    [
      'line 38 ([,,set])',
      { family: 'Context', verb: 'Execute', scope: GLOBAL, user: ANY_USER, method: 'set' },
      'context:execute[,,set]',
    ],
    [
      'line 38 ([c,u,set])',
      { family: 'Context', verb: 'Execute', scope: specific('c'), user: specificUser('u'), method: 'set' },
      'context:execute[c,u,set]',
    ],
    ['line 38 (Global)', { family: 'Context', verb: 'List', scope: GLOBAL }, 'context:list'],
    ['line 38 (Specific)', { family: 'Context', verb: 'List', scope: specific('ctx-1') }, 'context:list[ctx-1,]'],
    ['line 39 (full)', { family: 'Package', verb: 'ListVersions', scope: specific('pkg') }, 'package:list-versions[pkg,]'],
    ['line 39 (simple)', { family: 'Keys', verb: 'GetPermissions', scope: specific('key-1') }, 'keys:permissions:get[key-1]'],
  ])('%s: render → %j', (_line, value, s) => {
    expect(renderPermission(value)).toBe(s);
  });

  it.each([
    'namespace',
    'namespace:create',
    'namespace:list',
    'namespace:manage',
    'group',
    'group:create',
    'group:list',
    'group:manage',
    'blob:list',
    'blob:get',
    'context:alias',
    'context:alias[ctx-1]',
  ])('line 28: exact round trip of %j', (s) => {
    expect(renderPermission(parsePermission(s))).toBe(s);
  });

  it.each([
    ['namespace:list[ns-1]', 'namespace:list[ns-1,]'],
    ['namespace:manage[ns-1]', 'namespace:manage[ns-1,]'],
    ['group:list[grp-1]', 'group:list[grp-1,]'],
    ['group:manage[grp-1]', 'group:manage[grp-1,]'],
    ['blob:list[blob-1]', 'blob:list[blob-1,]'],
    ['blob:get[blob-1]', 'blob:get[blob-1,]'],
  ])('line 29: semantic round trip of %j, rendered %j', (s, rendered) => {
    const p = parsePermission(s);
    expect(renderPermission(p)).toBe(rendered);
    expect(parsePermission(renderPermission(p))).toEqual(p);
  });

  it.each([
    ['line 30', 'namespace:delete', 'Unknown namespace action: delete'],
    ['line 30', 'group:destroy', 'Unknown group action: destroy'],
    ['line 30', 'blob:read', 'Unknown blob action: read'],
    ['line 31', '', 'Empty permission string'],
    ['line 31', 'Admin', 'Unknown permission category: Admin'],
    ['line 31', 'adminx', 'Unknown permission category: adminx'],
    ['line 35', 'context:capabilities', 'Unknown context capabilities action: '],
    ['line 35', 'context:application', 'Unknown context application action: '],
    ['line 35', 'context:alias:create', 'Unknown alias type: '],
    ['line 35', 'context:alias:rename:context', 'Unknown context alias action: rename'],
    ['line 37', 'keys:update-permissions[some-key-id]', 'Unknown keys action: update-permissions'],
    ['line 37', 'keys:clients:purge', 'Unknown keys clients action: purge'],
    ['line 37', 'blob:add:zip', 'Unknown blob add action: zip'],
  ])('%s: parse(%j) → error %j', (_line, s, message) => {
    expect(parseError(s)).toBe(message);
  });
});

describe('§11.4 satisfies', () => {
  it.each<[string, string, string, boolean]>([
    ['line 40', 'admin', 'application:list', true],
    ['line 42', 'context:alias:create:context', 'context:alias:create:context', true],
    ['line 42', 'context:alias:delete:application[alias-name]', 'context:alias:delete:application[alias-name]', true],
    ['line 42', 'context:alias:lookup:identity[ctx-123]', 'context:alias:lookup:identity[ctx-123]', true],
    ['line 43', 'context:alias:create:context', 'context:alias:create:application', false],
    ['line 43', 'context:alias:create:context', 'context:alias:delete:context', false],
    ['line 43', 'admin', 'context:alias:lookup:identity[ctx-123]', true],
    ['line 44', 'namespace', 'namespace:create', true],
    ['line 44', 'namespace', 'namespace:list[ns-1]', true],
    ['line 44', 'namespace', 'namespace:manage[ns-1]', true],
    ['line 44', 'group', 'group:create', true],
    ['line 44', 'group', 'group:list[grp-1]', true],
    ['line 44', 'group', 'group:manage[grp-1]', true],
    ['line 45', 'namespace:manage', 'namespace:manage[ns-1]', true],
    ['line 45', 'namespace:list', 'namespace:manage[ns-1]', false],
    ['line 45', 'group:manage[grp-1]', 'group:manage', false],
    ['line 45', 'namespace', 'group:list', false],
    ['line 46', 'blob', 'blob:list', true],
    ['line 46', 'blob', 'blob:get[blob-1]', true],
    ['line 46', 'blob:get', 'blob:get[blob-1]', true],
    ['line 46', 'blob:get', 'blob:list', false],
    ['line 46', 'blob:list', 'blob:get[blob-1]', false],
    ['line 47', 'context:alias', 'context:alias:create:context', true],
    ['line 47', 'context:alias', 'context:alias:lookup:identity[ctx-123]', true],
    ['line 47', 'context:alias', 'context:alias:list:application', true],
    ['line 47', 'context:alias', 'context:alias:delete:context[alias-name]', true],
    ['line 47', 'context:alias', 'context:alias', true],
    ['line 47', 'context:alias:create:context', 'context:alias', false],
    ['line 48', 'context', 'context:list', false],
    ['line 48', 'context', 'context:execute', false],
    ['line 48', 'context', 'context', true],
    ['line 48', 'context[ctx-1]', 'context', false],
    ['line 49', 'package', 'package:list-packages', false],
    ['line 49', 'keys:permissions:get', 'keys:permissions:get[k1]', false],
    ['line 49', 'keys', 'keys:permissions:get[k1]', true],
    ['line 50', 'context:execute[c,,m]', 'context:execute[c]', true],
    ['line 50', 'context:execute[c]', 'context:execute[c,,m]', true],
    ['line 50', 'context:execute[c,,m1]', 'context:execute[c,,m2]', false],
    ['line 50', 'context:execute[,u]', 'context:execute', false],
  ])('%s: sat(%j, %j) → %s', (_line, h, r, expected) => {
    expect(sat(h, r)).toBe(expected);
  });

  it('line 41: a multi-id held scope covers a subset, not the reverse', () => {
    const both: Permission = { family: 'Application', verb: 'List', scope: specific('app1', 'app2') };
    const one: Permission = { family: 'Application', verb: 'List', scope: specific('app1') };
    expect(satisfies(both, one)).toBe(true);
    expect(satisfies(one, both)).toBe(false);
  });
});

describe('§11.5 validatePermissions and the route table', () => {
  it.each<[string, string, string, string[]]>([
    [
      'line 51',
      'GET',
      '/admin-api/contexts/with-executors/for-application/9e4gX24aMx3KWWViZeYu8E4e8UrntWDEsuDTFJTXdKsu',
      ['context:list[9e4gX24aMx3KWWViZeYu8E4e8UrntWDEsuDTFJTXdKsu,]'],
    ],
    ['line 52', 'GET', '/admin-api/applications', ['application:list']],
    ['line 52', 'GET', '/admin-api/applications/app1', ['application:list[app1,]']],
    ['line 52', 'POST', '/jsonrpc', ['context:execute']],
    ['line 54', 'HEAD', '/admin-api/blobs/blob-1', ['blob:get[blob-1,]']],
    ['line 54', 'POST', '/blobs/stream', ['blob:add:stream']],
    ['line 54', 'POST', '/blobs/file', ['blob:add:file']],
    ['line 54', 'POST', '/blobs/url', ['blob:add:url']],
    ['line 54', 'DELETE', '/blobs/123', ['blob:remove[123,]']],
    ['line 56', 'POST', '/jsonrpc', ['context:execute']],
    ['line 57', 'GET', '/admin-api/applications/app-123', ['application:list[app-123,]']],
    ['line 57', 'GET', '/admin-api/contexts/ctx-456', ['context:list[ctx-456,]']],
    ['line 57', 'POST', '/admin-api/contexts/ctx-789/capabilities/grant', ['context:capabilities:grant[ctx-789]']],
    ['line 57', 'POST', '/admin-api/contexts/ctx-101/application', ['context:application:update[ctx-101]']],
    ['line 57', 'DELETE', '/blobs/blob-123', ['blob:remove[blob-123,]']],
    ['line 57', 'DELETE', '/admin/keys/key-456', ['keys:delete']],
    ['line 57', 'GET', '/admin/keys/key-789/permissions', ['keys:permissions:get[key-789]']],
    ['line 57', 'DELETE', '/admin/keys/key-101/clients/client-123', ['keys:clients:delete']],
    ['line 59', 'GET', '/ws', []],
    ['line 59', 'GET', '/sse', []],
    ['line 59', 'GET', '/sse/session/123', []],
    ['line 59', 'GET', '/auth/providers', []],
    ['line 59', 'POST', '/jsonrpc', ['context:execute']],
    ['line 60', 'PUT', '/admin/keys/some-key-id/permissions', ['admin']],
    ['line 60', 'GET', '/admin/keys/some-key-id/permissions', ['keys:permissions:get[some-key-id]']],
    ['line 61', 'POST', '/admin/keys', ['admin']],
    ['line 61', 'GET', '/admin/keys', ['keys:list']],
  ])('%s: req(%s %s) → %j', (_line, method, path, expected) => {
    expect(req(method, path)).toEqual(expected);
  });

  it('line 52: POST /jsonrpc yields exactly one entry', () => {
    expect(determineRequiredPermissions('POST', '/jsonrpc')).toHaveLength(1);
  });

  it('line 56: POST /jsonrpc requires Context.Execute(Global, Any, none)', () => {
    expect(determineRequiredPermissions('POST', '/jsonrpc')).toEqual([
      { family: 'Context', verb: 'Execute', scope: GLOBAL, user: ANY_USER },
    ]);
  });

  it.each<[string, string[], Permission[], boolean]>([
    ['line 53', ['admin'], [{ family: 'Application', verb: 'List', scope: GLOBAL }], true],
    ['line 53', ['application:list[app1,app2]'], [{ family: 'Application', verb: 'List', scope: specific('app1') }], true],
    ['line 53', ['blob:add'], [{ family: 'Application', verb: 'List', scope: GLOBAL }], false],
    ['line 55', ['blob:add'], [{ family: 'Blob', verb: 'Add', add: 'Stream' }], true],
    ['line 55', ['blob:add:stream'], [{ family: 'Blob', verb: 'Add', add: 'Stream' }], true],
    ['line 55', ['blob:add:stream'], [{ family: 'Blob', verb: 'Add', add: 'File' }], false],
    [
      'line 55',
      ['blob'],
      [
        { family: 'Blob', verb: 'Add', add: 'Stream' },
        { family: 'Blob', verb: 'Remove', scope: specific('123') },
      ],
      true,
    ],
  ])('%s: validatePermissions(%j, %j) → %s', (_line, held, required, expected) => {
    expect(validatePermissions(held, required)).toBe(expected);
  });

  it.each<[string, string[], string, string, boolean]>([
    ['line 56', ['context:execute'], 'POST', '/jsonrpc', true],
    ['line 56', ['context:list'], 'POST', '/jsonrpc', false],
    ['line 60', ['keys:update-permissions[some-key-id]'], 'PUT', '/admin/keys/some-key-id/permissions', false],
    ['line 60', ['admin'], 'PUT', '/admin/keys/some-key-id/permissions', true],
    ['line 61', ['keys:create'], 'POST', '/admin/keys', false],
    ['line 61', ['admin'], 'POST', '/admin/keys', true],
  ])('%s: allow(%j; %s %s) → %s', (_line, held, method, path, expected) => {
    expect(allowsRoute(held, method, path)).toBe(expected);
  });

  it.each([
    ['POST', '/admin-api/install-dev-application'],
    ['GET', '/admin-api/usage'],
    ['GET', '/admin-api/network/status'],
    ['GET', '/admin-api/peers'],
    ['POST', '/admin-api/contexts/invite-specialized-node'],
    ['GET', '/admin-api/totally-unknown-subpath'],
    ['POST', '/admin-api/contexts/ctx-1'],
    ['DELETE', '/admin-api/applications'],
    ['POST', '/admin-api/blobs/blob-1'],
  ])('line 58: default deny for %s %s', (method, path) => {
    expect(req(method, path)).toEqual(['admin']);
    expect(allowsRoute(['context:execute', 'context:list'], method, path)).toBe(false);
    expect(allowsRoute(['admin'], method, path)).toBe(true);
  });

  const T = ['context:create', 'context:list', 'context:execute', 'namespace', 'group', 'blob', 'context:alias'];

  it.each<[string, string, string[]]>([
    ['GET', '/admin-api/namespaces', ['namespace:list']],
    ['POST', '/admin-api/namespaces', ['namespace:create']],
    ['GET', '/admin-api/namespaces/ns-1', ['namespace:list[ns-1,]']],
    ['DELETE', '/admin-api/namespaces/ns-1', ['namespace:manage[ns-1,]']],
    ['GET', '/admin-api/namespaces/ns-1/identity', ['namespace:list[ns-1,]']],
    ['GET', '/admin-api/identity', ['namespace:list']],
    ['GET', '/admin-api/namespaces/ns-1/groups', ['namespace:list[ns-1,]']],
    ['POST', '/admin-api/namespaces/ns-1/groups', ['group:create']],
    ['POST', '/admin-api/namespaces/ns-1/invite', ['namespace:manage[ns-1,]']],
    ['POST', '/admin-api/namespaces/ns-1/join', ['namespace:manage[ns-1,]']],
    ['POST', '/admin-api/namespaces/ns-1/leave', ['namespace:manage[ns-1,]']],
    ['GET', '/admin-api/namespaces/for-application/app-1', ['namespace:list[app-1,]']],
    ['POST', '/admin-api/groups', ['group:create']],
    ['POST', '/admin-api/groups/join', ['group:manage']],
    ['GET', '/admin-api/groups/grp-1', ['group:list[grp-1,]']],
    ['PATCH', '/admin-api/groups/grp-1', ['group:manage[grp-1,]']],
    ['DELETE', '/admin-api/groups/grp-1', ['group:manage[grp-1,]']],
    ['GET', '/admin-api/groups/grp-1/members', ['group:list[grp-1,]']],
    ['POST', '/admin-api/groups/grp-1/members', ['group:manage[grp-1,]']],
    ['PUT', '/admin-api/groups/grp-1/members/id-1/role', ['group:manage[grp-1,]']],
    ['POST', '/admin-api/groups/grp-1/invite', ['group:manage[grp-1,]']],
    ['POST', '/admin-api/groups/grp-1/leave', ['group:manage[grp-1,]']],
    ['GET', '/admin-api/groups/grp-1/contexts', ['group:list[grp-1,]']],
    ['PUT', '/admin-api/groups/grp-1/metadata', ['group:manage[grp-1,]']],
    ['GET', '/admin-api/contexts/ctx-1/identities', ['context:list[ctx-1,]']],
    ['GET', '/admin-api/contexts/ctx-1/identities-owned', ['context:list[ctx-1,]']],
    ['GET', '/admin-api/contexts/ctx-1/storage', ['context:list[ctx-1,]']],
    ['GET', '/admin-api/contexts/ctx-1/group', ['context:list[ctx-1,]']],
    ['POST', '/admin-api/contexts/ctx-1/join', ['context:execute[ctx-1,]']],
    ['POST', '/admin-api/contexts/ctx-1/leave', ['context:execute[ctx-1,]']],
    ['POST', '/admin-api/contexts/ctx-1/resync', ['context:execute[ctx-1,]']],
    ['POST', '/admin-api/contexts/sync', ['context:execute']],
    ['POST', '/admin-api/contexts/sync/ctx-1', ['context:execute[ctx-1,]']],
    ['PUT', '/admin-api/blobs', ['blob:add:stream']],
    ['GET', '/admin-api/blobs', ['blob:list']],
    ['GET', '/admin-api/blobs/blob-1', ['blob:get[blob-1,]']],
    ['DELETE', '/admin-api/blobs/blob-1', ['blob:remove[blob-1,]']],
    ['POST', '/admin-api/alias/create/context', ['context:alias:create:context']],
    ['POST', '/admin-api/alias/lookup/context/foo', ['context:alias:lookup:context']],
    ['POST', '/admin-api/alias/delete/identity/ctx-1/foo', ['context:alias:delete:identity']],
    ['GET', '/admin-api/alias/list/application', ['context:alias:list:application']],
    ['POST', '/admin-api/identity/context', ['context:execute']],
    ['POST', '/jsonrpc', ['context:execute']],
  ])('line 62: %s %s → %j, and the extended set T passes', (method, path, expected) => {
    expect(req(method, path)).toEqual(expected);
    expect(expected).not.toContain('admin');
    expect(allowsRoute(T, method, path)).toBe(true);
  });

  it.each([
    ['GET', '/admin-api/usage'],
    ['POST', '/admin-api/install-dev-application'],
    ['GET', '/admin/keys'],
    ['PUT', '/admin/keys/key-1/permissions'],
  ])('line 63: T is denied %s %s', (method, path) => {
    expect(allowsRoute(T, method, path)).toBe(false);
  });
});

describe('§11.6 client grant-set contract', () => {
  const L = ['context:create', 'context:list', 'context:execute'];
  const T = [...L, 'namespace', 'group', 'blob', 'context:alias'];
  const APP = '9e4gX24aMx3KWWViZeYu8E4e8UrntWDEsuDTFJTXdKsu';
  const A = [`context:create[${APP}]`, `context:list[${APP}]`, `context:execute[${APP}]`];
  const ROUTES: [string, string][] = [
    ['GET', '/admin-api/contexts'],
    ['POST', '/admin-api/contexts'],
    ['POST', '/jsonrpc'],
  ];

  it.each<[string, string[], boolean]>([
    ['line 64', L, true],
    ['line 65', ['context[ctx-1,member-pk-1]', ...L], true],
    ['line 67', A, false],
    ['line 69', T, true],
  ])('%s: the three SDK routes with %j → %s', (_line, held, expected) => {
    for (const [method, path] of ROUTES) expect(allowsRoute(held, method, path)).toBe(expected);
  });

  it('line 66: /auth/validate requires nothing', () => {
    expect(req('GET', '/auth/validate')).toEqual([]);
    expect(req('POST', '/auth/validate')).toEqual([]);
  });

  it('line 68: namespaces need the extended set', () => {
    expect(allowsRoute(T, 'GET', '/admin-api/namespaces')).toBe(true);
    expect(allowsRoute(T, 'POST', '/admin-api/namespaces')).toBe(true);
    expect(allowsRoute(L, 'GET', '/admin-api/namespaces')).toBe(false);
    expect(allowsRoute(L, 'POST', '/admin-api/namespaces')).toBe(false);
  });
});

describe('§11.7 effective permissions, middleware conventions, node helper', () => {
  it('line 70: a removal from the key is effective at once; an addition is not granted', () => {
    expect(effectivePermissions(['admin', 'context'], ['admin'])).toEqual(['admin']);
    expect(effectivePermissions(['admin'], ['admin', 'context'])).toEqual(['admin']);
  });

  it('line 71: a token that fails the /admin table is denied', () => {
    expect(allowsRoute(['context:list'], 'GET', '/admin/keys')).toBe(false);
  });

  // line 72 (X-Auth-User / X-Auth-Permissions on /admin responses) is an HTTP rule: test/http/admin-auth.test.ts.

  it('line 73: /admin/keys/public is an ordinary key id', () => {
    expect(req('DELETE', '/admin/keys/public')).toEqual(['keys:delete']);
  });

  it.each<[string, string | undefined, string | undefined, boolean]>([
    ['line 74', 'https://node.example.com', 'https://node.example.com.attacker.com', false],
    ['line 75', 'https://node.example.com', 'https://node.example.com', true],
    ['line 76', 'https://node.example.com', 'https://node.example.com:8443', true],
    ['line 77', 'https://node.example.com', undefined, false],
    ['line 78', undefined, 'https://anything.example.com', true],
    ['line 78', undefined, undefined, true],
    ['line 79', 'node.example.com', 'node.example.com:8443', true],
    ['line 79', 'node.example.com', 'node.example.com.attacker.com', false],
  ])('%s: node(%j; %j) → %s', (_line, keyNode, requestNode, expected) => {
    expect(isValidForNode(keyNode, requestNode)).toBe(expected);
  });
});

describe('§11.8 full-path and forward-auth rules', () => {
  it.each<[string, string, string, string[], boolean]>([
    ['line 80', 'POST', '/admin/keys', ['keys:create'], false],
    ['line 80', 'POST', '/admin/keys', ['admin'], true],
    ['line 81', 'POST', '/admin/revoke', ['context:execute'], false],
    ['line 81', 'POST', '/admin/revoke', ['keys:delete'], true],
    ['line 81', 'POST', '/admin/revoke', ['keys'], true],
    ['line 82', 'GET', '/admin/keys/clients', ['keys:list'], false],
    ['line 82', 'GET', '/admin/keys/clients', ['keys:clients:list'], true],
    ['line 82', 'GET', '/admin/keys/clients', ['keys:clients'], true],
    ['line 83', 'DELETE', '/admin/keys/root-1/clients/cid-1', ['keys:delete'], false],
    ['line 83', 'DELETE', '/admin/keys/root-1/clients/cid-1', ['keys:clients:delete'], true],
    ['line 84', 'GET', '/admin/keys/k1/permissions', ['keys:list'], false],
    ['line 84', 'GET', '/admin/keys/k1/permissions', ['keys:permissions:get'], false],
    ['line 84', 'GET', '/admin/keys/k1/permissions', ['keys:permissions:get[k1]'], true],
    ['line 84', 'GET', '/admin/keys/k1/permissions', ['keys'], true],
    ['line 85', 'PUT', '/admin/keys/k1/permissions', ['keys:permissions:update'], false],
    ['line 86', 'POST', '/admin/client-key', ['keys:create'], true],
    ['line 87', 'GET', '/admin/identity', ['context:list'], true],
    ['line 87', 'GET', '/admin/metrics', ['context:list'], true],
  ])('%s: allow(%s %s; %j) → %s', (_line, method, path, held, expected) => {
    expect(allowsRoute(held, method, path)).toBe(expected);
  });

  it('line 86: the client-key handler then refuses a token without the literal admin', () => {
    expect(req('POST', '/admin/client-key')).toEqual([]);
    expect(holdsLiteralAdmin(['keys:create'])).toBe(false);
  });

  it.each<[string, string | undefined, string | undefined, string]>([
    ['line 88', undefined, undefined, 'unchecked'],
    ['line 89', 'POST', '/jsonrpc', 'deny'],
    ['line 90', 'GET', '/admin-api/contexts?token=abc', 'allow'],
    ['line 91', 'GET', '/admin-api/usage', 'deny'],
    ['line 91', 'GET', '/ws?token=abc.def.ghi', 'allow'],
    ['line 92', undefined, '/jsonrpc', 'unchecked'],
  ])('%s: forwarded %s %s with [context:list] → %s', (_line, method, uri, expected) => {
    expect(checkForwardedRoute(['context:list'], method, uri)).toBe(expected);
  });

  // line 93 (forward_auth.enforce_permissions = false) is a handler rule: test/http/forward-auth.test.ts.
});
