import { escapeHtml } from '../auth/sanitize.js';
import { isValidKey, type KeyRecord } from '../keys/key.js';
import { keyHasPermission } from './key-has-permission.js';

/** `POST /admin/client-key` needs the literal `admin` among the caller's effective permissions (§9). */
export function holdsLiteralAdmin(effective: readonly string[]): boolean {
  return effective.includes('admin');
}

/** The binding a client key carries when both context values are given: `context[<id>,<identity>]`. */
export function contextBinding(contextId: string, contextIdentity: string): string | undefined {
  return contextId !== '' && contextIdentity !== '' ? `context[${contextId},${contextIdentity}]` : undefined;
}

export type ClientKeyPermissionsResult =
  | { readonly ok: true; readonly permissions: string[] }
  | {
      readonly ok: false;
      readonly code: 'parent_lacks_permission';
      readonly status: 400;
      /** `Root key does not have permission: <escapeHtml(p)>` */
      readonly message: string;
      readonly permission: string;
    };

/**
 * The permission list of a new client key (permissions.md §9, wire-contract §5.7 step 6): the
 * context binding first when both values are non-empty, then each requested permission in order,
 * each of which the caller's key must be able to hand on (§7.1); duplicates are dropped.
 * `contextId` / `contextIdentity` must already be sanitised (absent = '').
 */
export function clientKeyPermissions(
  callerKey: KeyRecord,
  contextId: string,
  contextIdentity: string,
  requested: readonly string[],
): ClientKeyPermissionsResult {
  const permissions: string[] = [];
  const binding = contextBinding(contextId, contextIdentity);
  if (binding !== undefined) permissions.push(binding);
  for (const p of requested) {
    if (!keyHasPermission(callerKey, p)) {
      return {
        ok: false,
        code: 'parent_lacks_permission',
        status: 400,
        message: `Root key does not have permission: ${escapeHtml(p)}`,
        permission: p,
      };
    }
    if (!permissions.includes(p)) permissions.push(p);
  }
  return { ok: true, permissions };
}

export type ParentRefusal =
  | { readonly code: 'parent_missing' }
  | { readonly code: 'parent_invalid' }
  | {
      readonly code: 'parent_lacks_permission';
      /** `Root key does not have permission: <p>` (not escaped: §9). */
      readonly message: string;
      readonly permission: string;
    };

/**
 * Client-key persistence and refresh (permissions.md §9): the parent must exist, be valid (not
 * revoked, not expired) and grant every permission of the client key. Revocation must not call
 * this. Returns undefined when the client key may be written.
 */
export function checkClientKeyParent(
  parent: KeyRecord | undefined,
  permissions: readonly string[],
  now: number,
): ParentRefusal | undefined {
  if (parent === undefined) return { code: 'parent_missing' };
  if (!isValidKey(parent, now)) return { code: 'parent_invalid' };
  for (const p of permissions) {
    if (!keyHasPermission(parent, p)) {
      return { code: 'parent_lacks_permission', message: `Root key does not have permission: ${p}`, permission: p };
    }
  }
  return undefined;
}
