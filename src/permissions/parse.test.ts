import { describe, expect, it } from 'vitest';
import { ANY_USER, GLOBAL, specific, specificUser, type Permission } from './permission.js';
import {
  PARSE_ERROR_CODES,
  parsePermission,
  PermissionParseError,
  tryParsePermission,
  type PermissionParseErrorCode,
} from './parse.js';

function parseFailure(s: string): PermissionParseError {
  try {
    parsePermission(s);
  } catch (e) {
    if (e instanceof PermissionParseError) return e;
    throw e;
  }
  throw new Error(`${JSON.stringify(s)} parsed`);
}

describe('parsePermission: the §2.2 variant table, one row per string', () => {
  const S = specific('s');
  it.each<[string, Permission]>([
    ['admin', { family: 'Admin' }],
    ['admin:x', { family: 'Admin' }],
    ['admin[y]', { family: 'Admin' }],
    ['application', { family: 'Application', verb: 'All' }],
    ['application:list[s]', { family: 'Application', verb: 'List', scope: S }],
    ['application:install[s]', { family: 'Application', verb: 'Install', scope: S }],
    ['application:uninstall[s]', { family: 'Application', verb: 'Uninstall', scope: S }],
    ['package', { family: 'Package', verb: 'All' }],
    ['package:list-packages[s]', { family: 'Package', verb: 'ListPackages', scope: S }],
    ['package:list-versions[s]', { family: 'Package', verb: 'ListVersions', scope: S }],
    ['package:get-latest-version[s]', { family: 'Package', verb: 'GetLatestVersion', scope: S }],
    ['blob', { family: 'Blob', verb: 'All' }],
    ['blob:add', { family: 'Blob', verb: 'Add', add: 'All' }],
    ['blob:add:stream', { family: 'Blob', verb: 'Add', add: 'Stream' }],
    ['blob:add:file', { family: 'Blob', verb: 'Add', add: 'File' }],
    ['blob:add:url', { family: 'Blob', verb: 'Add', add: 'Url' }],
    ['blob:remove[s]', { family: 'Blob', verb: 'Remove', scope: S }],
    ['blob:list[s]', { family: 'Blob', verb: 'List', scope: S }],
    ['blob:get[s]', { family: 'Blob', verb: 'Get', scope: S }],
    ['namespace[s]', { family: 'Namespace', verb: 'All', scope: S }],
    ['namespace:create[s]', { family: 'Namespace', verb: 'Create', scope: S }],
    ['namespace:list[s]', { family: 'Namespace', verb: 'List', scope: S }],
    ['namespace:manage[s]', { family: 'Namespace', verb: 'Manage', scope: S }],
    ['group[s]', { family: 'Group', verb: 'All', scope: S }],
    ['group:create[s]', { family: 'Group', verb: 'Create', scope: S }],
    ['group:list[s]', { family: 'Group', verb: 'List', scope: S }],
    ['group:manage[s]', { family: 'Group', verb: 'Manage', scope: S }],
    ['context[s]', { family: 'Context', verb: 'All', scope: S }],
    ['context:create[s]', { family: 'Context', verb: 'Create', scope: S }],
    ['context:list[s]', { family: 'Context', verb: 'List', scope: S }],
    ['context:delete[s]', { family: 'Context', verb: 'Delete', scope: S }],
    ['context:leave[s,u]', { family: 'Context', verb: 'Leave', scope: S, user: specificUser('u') }],
    ['context:invite[s,u]', { family: 'Context', verb: 'Invite', scope: S, user: specificUser('u') }],
    ['context:execute[s,u,m]', { family: 'Context', verb: 'Execute', scope: S, user: specificUser('u'), method: 'm' }],
    ['context:capabilities:grant[s]', { family: 'Context', verb: 'Capabilities.Grant', scope: S }],
    ['context:capabilities:revoke[s]', { family: 'Context', verb: 'Capabilities.Revoke', scope: S }],
    ['context:application:update[s]', { family: 'Context', verb: 'Application.Update', scope: S }],
    ['context:alias[s]', { family: 'Context', verb: 'Alias.All', scope: S }],
    ['context:alias:create:context[s]', { family: 'Context', verb: 'Alias.Create', aliasType: 'context', scope: S }],
    ['context:alias:list:application[s]', { family: 'Context', verb: 'Alias.List', aliasType: 'application', scope: S }],
    ['context:alias:lookup:identity[s]', { family: 'Context', verb: 'Alias.Lookup', aliasType: 'identity', scope: S }],
    ['context:alias:delete:context[s]', { family: 'Context', verb: 'Alias.Delete', aliasType: 'context', scope: S }],
    ['keys', { family: 'Keys', verb: 'All' }],
    ['keys:create', { family: 'Keys', verb: 'Create' }],
    ['keys:list', { family: 'Keys', verb: 'List' }],
    ['keys:delete', { family: 'Keys', verb: 'Delete' }],
    ['keys:revoke', { family: 'Keys', verb: 'Delete' }],
    ['keys:clients', { family: 'Keys', verb: 'ListClients' }],
    ['keys:clients:list', { family: 'Keys', verb: 'ListClients' }],
    ['keys:clients:delete', { family: 'Keys', verb: 'DeleteClient' }],
    ['keys:permissions[s]', { family: 'Keys', verb: 'GetPermissions', scope: S }],
    ['keys:permissions:get[s]', { family: 'Keys', verb: 'GetPermissions', scope: S }],
    ['keys:permissions:update[s]', { family: 'Keys', verb: 'UpdatePermissions', scope: S }],
  ])('%j', (s, value) => {
    expect(parsePermission(s)).toEqual(value);
  });
});

describe('parsePermission: inline examples of §2.1–§2.2', () => {
  it.each<[string, string, Permission]>([
    ['§2.1 step 3: unread segments ignored', 'context:list:extra', { family: 'Context', verb: 'List', scope: GLOBAL }],
    ['§2.1 step 3: unread segments ignored', 'keys:create:x', { family: 'Keys', verb: 'Create' }],
    [
      '§2.1 step 3: a fifth segment is ignored',
      'context:alias:create:context:extra',
      { family: 'Context', verb: 'Alias.Create', aliasType: 'context', scope: GLOBAL },
    ],
    ['§2.1 step 5: context: = context', 'context:', { family: 'Context', verb: 'All', scope: GLOBAL }],
    ['§2.1 step 5: keys: = keys', 'keys:', { family: 'Keys', verb: 'All' }],
    ['§2.1 step 5: application: = application', 'application:', { family: 'Application', verb: 'All' }],
    ['§2.2: params ignored', 'blob:add[x]', { family: 'Blob', verb: 'Add', add: 'All' }],
    ['§2.2: params ignored', 'application[x]', { family: 'Application', verb: 'All' }],
    ['§2.2: params ignored', 'package[x]', { family: 'Package', verb: 'All' }],
    ['§2.2: params ignored', 'keys:create[x]', { family: 'Keys', verb: 'Create' }],
    ['§2.2: blob does not read the sub-action', 'blob::x', { family: 'Blob', verb: 'All' }],
    ['§2.2: U and M dropped for S-only variants', 'context:list[c,u]', { family: 'Context', verb: 'List', scope: specific('c') }],
    ['§2.2: the user piece of context is dropped', 'context[ctx,id]', { family: 'Context', verb: 'All', scope: specific('ctx') }],
    ['§2.2: namespace umbrella is scoped', 'namespace', { family: 'Namespace', verb: 'All', scope: GLOBAL }],
  ])('%s: %j', (_why, s, value) => {
    expect(parsePermission(s)).toEqual(value);
  });
});

describe('parsePermission: params (§2.1 step 4)', () => {
  const exec = (s: string) => parsePermission(`context:execute${s}`);
  it.each<[string, Permission]>([
    ['', { family: 'Context', verb: 'Execute', scope: GLOBAL, user: ANY_USER }],
    ['[]', { family: 'Context', verb: 'Execute', scope: GLOBAL, user: ANY_USER }],
    ['[c', { family: 'Context', verb: 'Execute', scope: GLOBAL, user: ANY_USER }], // no `]`: Global
    ['[ , , ]', { family: 'Context', verb: 'Execute', scope: GLOBAL, user: ANY_USER }],
    ['[,u]', { family: 'Context', verb: 'Execute', scope: GLOBAL, user: specificUser('u') }],
    ['[,,m]', { family: 'Context', verb: 'Execute', scope: GLOBAL, user: ANY_USER, method: 'm' }],
    ['[c,,m]', { family: 'Context', verb: 'Execute', scope: specific('c'), user: ANY_USER, method: 'm' }],
    ['[c,u,m,p4,p5]', { family: 'Context', verb: 'Execute', scope: specific('c'), user: specificUser('u'), method: 'm' }],
    ['[ c , u , m ]', { family: 'Context', verb: 'Execute', scope: specific('c'), user: specificUser('u'), method: 'm' }],
    ['[c]junk[d]', { family: 'Context', verb: 'Execute', scope: specific('c'), user: ANY_USER }], // after the first `]`: ignored
    ['[a[b]', { family: 'Context', verb: 'Execute', scope: specific('a[b'), user: ANY_USER }], // split at the FIRST `[`
    ['[c d]', { family: 'Context', verb: 'Execute', scope: specific('c d'), user: ANY_USER }], // inner whitespace kept
  ])('context:execute%s', (params, value) => {
    expect(exec(params)).toEqual(value);
  });

  it('trims pieces with Rust White_Space, not JS trim: U+0085 is trimmed, U+FEFF is kept', () => {
    expect(parsePermission('context:list[\u0085a\u3000]')).toEqual({ family: 'Context', verb: 'List', scope: specific('a') });
    expect(parsePermission('context:list[\uFEFFa]')).toEqual({ family: 'Context', verb: 'List', scope: specific('\uFEFFa') });
    expect(parsePermission('context:list[\t\n a \r\v\f]')).toEqual({ family: 'Context', verb: 'List', scope: specific('a') });
  });

  it('never yields more than one id', () => {
    expect(parsePermission('application:list[a,b,c]')).toEqual({ family: 'Application', verb: 'List', scope: specific('a') });
  });
});

describe('parsePermission: errors (§2.3), exact messages', () => {
  it.each<[string, PermissionParseErrorCode, string]>([
    ['', 'empty', 'Empty permission string'],
    ['Admin', 'unknown_category', 'Unknown permission category: Admin'],
    [' admin', 'unknown_category', 'Unknown permission category:  admin'], // no trimming outside brackets
    ['admin ', 'unknown_category', 'Unknown permission category: admin '],
    [':list', 'unknown_category', 'Unknown permission category: '],
    ['[x]', 'unknown_category', 'Unknown permission category: '],
    ['Context:list', 'unknown_category', 'Unknown permission category: Context'],
    ['application:read', 'unknown_application_action', 'Unknown application action: read'],
    ['package:list', 'unknown_package_action', 'Unknown package action: list'],
    ['blob:read', 'unknown_blob_action', 'Unknown blob action: read'],
    ['blob:add:zip', 'unknown_blob_add_action', 'Unknown blob add action: zip'],
    ['namespace:delete', 'unknown_namespace_action', 'Unknown namespace action: delete'],
    ['group:destroy', 'unknown_group_action', 'Unknown group action: destroy'],
    ['context:subscribe', 'unknown_context_action', 'Unknown context action: subscribe'],
    ['context:list ', 'unknown_context_action', 'Unknown context action: list '],
    ['context:execute [c]', 'unknown_context_action', 'Unknown context action: execute '],
    ['context:capabilities', 'unknown_context_capabilities_action', 'Unknown context capabilities action: '],
    ['context:capabilities:give', 'unknown_context_capabilities_action', 'Unknown context capabilities action: give'],
    ['context:application', 'unknown_context_application_action', 'Unknown context application action: '],
    ['context:application:set', 'unknown_context_application_action', 'Unknown context application action: set'],
    ['context:alias:rename:context', 'unknown_context_alias_action', 'Unknown context alias action: rename'],
    ['context:alias:create', 'unknown_alias_type', 'Unknown alias type: '],
    ['context:alias:list:user', 'unknown_alias_type', 'Unknown alias type: user'],
    ['keys:update-permissions[k]', 'unknown_keys_action', 'Unknown keys action: update-permissions'],
    ['keys:clients:purge', 'unknown_keys_clients_action', 'Unknown keys clients action: purge'],
    ['keys:permissions:set', 'unknown_keys_permissions_action', 'Unknown keys permissions action: set'],
  ])('%j → %s %j', (s, code, message) => {
    const e = parseFailure(s);
    expect(e.code).toBe(code);
    expect(e.message).toBe(message);
    expect(e.name).toBe('PermissionParseError');
    expect(e).toBeInstanceOf(Error);
  });

  it('keeps the segment exactly as written', () => {
    expect(parseFailure('context:alias:list:Us er').segment).toBe('Us er');
  });

  it('covers every code', () => {
    expect(PARSE_ERROR_CODES).toHaveLength(16);
  });

  it.each([
    ['namespace:constructor', 'Unknown namespace action: constructor'],
    ['group:__proto__', 'Unknown group action: __proto__'],
    ['context:alias:toString:context', 'Unknown context alias action: toString'],
    ['context:alias:create:constructor', 'Unknown alias type: constructor'],
  ])('object-prototype names are not actions: %j', (s, message) => {
    expect(parseFailure(s).message).toBe(message);
  });
});

describe('tryParsePermission (lenient)', () => {
  it('returns undefined instead of throwing', () => {
    expect(tryParsePermission('context:subscribe')).toBeUndefined();
    expect(tryParsePermission('')).toBeUndefined();
    expect(tryParsePermission('keys')).toEqual({ family: 'Keys', verb: 'All' });
  });
});
