import type { Permission, ResourceScope, UserScope } from './permission.js';
import { ANY_USER } from './permission.js';

/**
 * Full params `F(S, U, M)` (§3), step by step as the Rust formatter builds them, so hand-built
 * oddities (an empty first id, several ids) render exactly as they do there.
 */
function full(scope: ResourceScope, user: UserScope, method: string | undefined): string {
  const list: string[] = [];
  if (scope.kind === 'Specific' && scope.ids.length > 0) list.push(scope.ids[0] as string);
  if (user.kind === 'Any') {
    if (list.length > 0) list.push('');
  } else {
    if (list.length === 0) list.push('');
    list.push(user.user);
  }
  if (method !== undefined) {
    while (list.length < 2) list.push('');
    list.push(method);
  }
  return list.every((e) => e === '') ? '' : `[${list.join(',')}]`;
}

/** Simple params `Q(S)`: `[first id]` or nothing. */
function simple(scope: ResourceScope): string {
  return scope.kind === 'Specific' && scope.ids.length > 0 ? `[${scope.ids[0] as string}]` : '';
}

const APPLICATION_NAMES = { List: 'list', Install: 'install', Uninstall: 'uninstall' } as const;
const PACKAGE_NAMES = {
  ListPackages: 'list-packages',
  ListVersions: 'list-versions',
  GetLatestVersion: 'get-latest-version',
} as const;
const BLOB_ADD_NAMES = { All: 'blob:add', Stream: 'blob:add:stream', File: 'blob:add:file', Url: 'blob:add:url' } as const;
const SCOPED_COLLECTION_NAMES = { All: '', Create: ':create', List: ':list', Manage: ':manage' } as const;
const KEYS_NAMES = {
  All: 'keys',
  Create: 'keys:create',
  List: 'keys:list',
  Delete: 'keys:delete',
  ListClients: 'keys:clients:list',
  DeleteClient: 'keys:clients:delete',
} as const;

/** Canonical rendering (§3). Aliases come out under their canonical names (`keys:revoke` → `keys:delete`). */
export function renderPermission(p: Permission): string {
  switch (p.family) {
    case 'Admin':
      return 'admin';
    case 'Application':
      return p.verb === 'All' ? 'application' : `application:${APPLICATION_NAMES[p.verb]}${full(p.scope, ANY_USER, undefined)}`;
    case 'Package':
      return p.verb === 'All' ? 'package' : `package:${PACKAGE_NAMES[p.verb]}${full(p.scope, ANY_USER, undefined)}`;
    case 'Blob':
      if (p.verb === 'All') return 'blob';
      if (p.verb === 'Add') return BLOB_ADD_NAMES[p.add];
      return `blob:${p.verb.toLowerCase()}${full(p.scope, ANY_USER, undefined)}`;
    case 'Namespace':
      return `namespace${SCOPED_COLLECTION_NAMES[p.verb]}${full(p.scope, ANY_USER, undefined)}`;
    case 'Group':
      return `group${SCOPED_COLLECTION_NAMES[p.verb]}${full(p.scope, ANY_USER, undefined)}`;
    case 'Context':
      switch (p.verb) {
        case 'All':
          return `context${full(p.scope, ANY_USER, undefined)}`;
        case 'Create':
        case 'List':
        case 'Delete':
          return `context:${p.verb.toLowerCase()}${full(p.scope, ANY_USER, undefined)}`;
        case 'Leave':
        case 'Invite':
          return `context:${p.verb.toLowerCase()}${full(p.scope, p.user, undefined)}`;
        case 'Execute':
          return `context:execute${full(p.scope, p.user, p.method)}`;
        case 'Capabilities.Grant':
          return `context:capabilities:grant${simple(p.scope)}`;
        case 'Capabilities.Revoke':
          return `context:capabilities:revoke${simple(p.scope)}`;
        case 'Application.Update':
          return `context:application:update${simple(p.scope)}`;
        case 'Alias.All':
          return `context:alias${simple(p.scope)}`;
        default:
          // Alias.Create → context:alias:create:<type>
          return `context:alias:${p.verb.slice(6).toLowerCase()}:${p.aliasType}${simple(p.scope)}`;
      }
    case 'Keys':
      if (p.verb === 'GetPermissions') return `keys:permissions:get${simple(p.scope)}`;
      if (p.verb === 'UpdatePermissions') return `keys:permissions:update${simple(p.scope)}`;
      return KEYS_NAMES[p.verb];
  }
}
