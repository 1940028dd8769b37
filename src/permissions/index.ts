/** The permission model of permissions.md: grammar, hierarchy, route table and handler checks. */
export type {
  AdminPermission,
  AliasType,
  AliasVerb,
  ApplicationPermission,
  BlobAddKind,
  BlobPermission,
  ContextPermission,
  GroupPermission,
  KeysPermission,
  NamespacePermission,
  PackagePermission,
  Permission,
  PermissionFamily,
  ResourceScope,
  UserScope,
} from './permission.js';
export { ANY_USER, GLOBAL, permissionEquals, scopeEquals, specific, specificUser, userEquals } from './permission.js';
export {
  PARSE_ERROR_CODES,
  parsePermission,
  PermissionParseError,
  tryParsePermission,
  type PermissionParseErrorCode,
} from './parse.js';
export { renderPermission } from './render.js';
export { methodMatch, scopeMatch, userMatch } from './match.js';
export { satisfies } from './satisfies.js';
export { validatePermissions } from './validate.js';
export { keyHasPermission } from './key-has-permission.js';
export {
  determineRequiredPermissions,
  normalizeMethod,
  type RequiredPermissions,
  type RouteMethod,
} from './required-permissions.js';
export { allowsRoute } from './allows-route.js';
export { rawPathProblem, type RawPathProblem } from './raw-path.js';
export { checkForwardedRoute, type ForwardedRouteDecision } from './forward-auth.js';
export { effectivePermissions } from './effective.js';
export { checkGrant, type GrantRefusal, type GrantRefusalCode } from './grant.js';
export {
  checkClientKeyParent,
  clientKeyPermissions,
  contextBinding,
  holdsLiteralAdmin,
  type ClientKeyPermissionsResult,
  type ParentRefusal,
} from './client-key.js';
export { extractHost, isValidForNode } from './node.js';
