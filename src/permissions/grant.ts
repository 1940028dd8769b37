import { parsePermission, PermissionParseError } from './parse.js';
import { validatePermissions } from './validate.js';

export type GrantRefusalCode = 'invalid_permission_format' | 'exceeds_own';

export interface GrantRefusal {
  readonly code: GrantRefusalCode;
  /** 400 for a format error, 403 for a grant beyond the caller's own permissions. */
  readonly status: 400 | 403;
  /** The exact envelope message (§9). */
  readonly message: string;
  /** The `add` entry that failed. */
  readonly permission: string;
}

/**
 * The grant check of `PUT /admin/keys/:id/permissions` (permissions.md §9): every entry of `add`
 * must parse and be covered by the caller's effective permissions. Entries are checked in order
 * and the first failure wins; removals are never restricted. `add` must already be sanitised
 * with empties dropped (wire-contract §5.10 step 2). Returns undefined when the grant is allowed.
 */
export function checkGrant(callerEffective: readonly string[], add: readonly string[]): GrantRefusal | undefined {
  for (const entry of add) {
    let parsed;
    try {
      parsed = parsePermission(entry);
    } catch (e) {
      if (!(e instanceof PermissionParseError)) throw e;
      return {
        code: 'invalid_permission_format',
        status: 400,
        message: `Invalid permission format: ${e.message}`,
        permission: entry,
      };
    }
    if (!validatePermissions(callerEffective, [parsed])) {
      return {
        code: 'exceeds_own',
        status: 403,
        message: 'Cannot grant permissions that exceed your own',
        permission: entry,
      };
    }
  }
  return undefined;
}
