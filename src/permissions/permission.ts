/**
 * The permission data model (permissions.md §1), as a closed, readonly, tagged union.
 *
 * `family` and `verb` mirror the spec's `Family.Verb(…)` notation exactly, so
 * `Context.Alias.Create(T, S)` is `{ family: 'Context', verb: 'Alias.Create', aliasType: T, scope: S }`.
 */

/** Resource scope `S`. Parsing yields at most one id; hand-built values may carry several. */
export type ResourceScope = { readonly kind: 'Global' } | { readonly kind: 'Specific'; readonly ids: readonly string[] };

/** User scope `U`: only on `context:leave`, `context:invite`, `context:execute`. */
export type UserScope = { readonly kind: 'Any' } | { readonly kind: 'Specific'; readonly user: string };

export type AliasType = 'context' | 'application' | 'identity';
export type BlobAddKind = 'All' | 'Stream' | 'File' | 'Url';

export type AdminPermission = { readonly family: 'Admin' };

export type ApplicationPermission =
  | { readonly family: 'Application'; readonly verb: 'All' }
  | { readonly family: 'Application'; readonly verb: 'List' | 'Install' | 'Uninstall'; readonly scope: ResourceScope };

export type PackagePermission =
  | { readonly family: 'Package'; readonly verb: 'All' }
  | {
      readonly family: 'Package';
      readonly verb: 'ListPackages' | 'ListVersions' | 'GetLatestVersion';
      readonly scope: ResourceScope;
    };

export type BlobPermission =
  | { readonly family: 'Blob'; readonly verb: 'All' }
  | { readonly family: 'Blob'; readonly verb: 'Add'; readonly add: BlobAddKind }
  | { readonly family: 'Blob'; readonly verb: 'Remove' | 'List' | 'Get'; readonly scope: ResourceScope };

export type NamespacePermission = {
  readonly family: 'Namespace';
  readonly verb: 'All' | 'Create' | 'List' | 'Manage';
  readonly scope: ResourceScope;
};

export type GroupPermission = {
  readonly family: 'Group';
  readonly verb: 'All' | 'Create' | 'List' | 'Manage';
  readonly scope: ResourceScope;
};

export type AliasVerb = 'Alias.Create' | 'Alias.List' | 'Alias.Lookup' | 'Alias.Delete';

export type ContextPermission =
  | {
      readonly family: 'Context';
      readonly verb:
        | 'All'
        | 'Create'
        | 'List'
        | 'Delete'
        | 'Capabilities.Grant'
        | 'Capabilities.Revoke'
        | 'Application.Update'
        | 'Alias.All';
      readonly scope: ResourceScope;
    }
  | { readonly family: 'Context'; readonly verb: 'Leave' | 'Invite'; readonly scope: ResourceScope; readonly user: UserScope }
  | {
      readonly family: 'Context';
      readonly verb: 'Execute';
      readonly scope: ResourceScope;
      readonly user: UserScope;
      /** Absent means "any method". */
      readonly method?: string | undefined;
    }
  | { readonly family: 'Context'; readonly verb: AliasVerb; readonly aliasType: AliasType; readonly scope: ResourceScope };

export type KeysPermission =
  | {
      readonly family: 'Keys';
      readonly verb: 'All' | 'Create' | 'List' | 'Delete' | 'ListClients' | 'DeleteClient';
    }
  | { readonly family: 'Keys'; readonly verb: 'GetPermissions' | 'UpdatePermissions'; readonly scope: ResourceScope };

export type Permission =
  | AdminPermission
  | ApplicationPermission
  | PackagePermission
  | BlobPermission
  | NamespacePermission
  | GroupPermission
  | ContextPermission
  | KeysPermission;

export type PermissionFamily = Permission['family'];

/** Shared, frozen: parsing returns these for the unscoped cases instead of allocating. */
export const GLOBAL: ResourceScope = Object.freeze({ kind: 'Global' });
export const ANY_USER: UserScope = Object.freeze({ kind: 'Any' });

export const specific = (...ids: string[]): ResourceScope => ({ kind: 'Specific', ids });
export const specificUser = (user: string): UserScope => ({ kind: 'Specific', user });

export function scopeEquals(a: ResourceScope, b: ResourceScope): boolean {
  if (a.kind === 'Global' || b.kind === 'Global') return a.kind === b.kind;
  if (a.ids.length !== b.ids.length) return false;
  for (let i = 0; i < a.ids.length; i++) if (a.ids[i] !== b.ids[i]) return false;
  return true;
}

export function userEquals(a: UserScope, b: UserScope): boolean {
  if (a.kind === 'Any' || b.kind === 'Any') return a.kind === b.kind;
  return a.user === b.user;
}

/** Structural equality of §1: same family, verb and fields; scope ids compared element by element. */
export function permissionEquals(a: Permission, b: Permission): boolean {
  if (a.family !== b.family) return false;
  if (a.family === 'Admin') return true;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  if (x.verb !== y.verb) return false;
  // Same family and verb imply the same shape, so comparing each optional field is enough.
  if (x.add !== y.add || x.aliasType !== y.aliasType || x.method !== y.method) return false;
  const sx = x.scope as ResourceScope | undefined;
  const sy = y.scope as ResourceScope | undefined;
  if (sx !== undefined && sy !== undefined && !scopeEquals(sx, sy)) return false;
  const ux = x.user as UserScope | undefined;
  const uy = y.user as UserScope | undefined;
  if (ux !== undefined && uy !== undefined && !userEquals(ux, uy)) return false;
  return true;
}
