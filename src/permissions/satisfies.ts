import { methodMatch, scopeMatch, userMatch } from './match.js';
import { permissionEquals, type Permission } from './permission.js';

/**
 * The hierarchy of permissions.md §4, quirks included. Comments give the row numbers; a pair that
 * reaches no row is row 26 (false).
 */
export function satisfies(held: Permission, required: Permission): boolean {
  if (held.family === 'Admin') return true; // 1
  if (held.family !== required.family) return false; // 2 (required Admin), 26
  switch (held.family) {
    case 'Application': {
      const r = required as typeof held;
      if (held.verb === 'All') return true; // 3
      return r.verb === held.verb && scopeMatch(held.scope, r.scope); // 4
    }
    case 'Blob': {
      const r = required as typeof held;
      if (held.verb === 'All') return true; // 5
      if (held.verb === 'Add') {
        if (r.verb !== 'Add') return false;
        return held.add === 'All' || held.add === r.add; // 6, 7
      }
      return r.verb === held.verb && scopeMatch(held.scope, r.scope); // 8
    }
    case 'Namespace':
    case 'Group': {
      const r = required as typeof held;
      // 9, 11: the umbrella covers every verb of its family, subject to scope. 10, 12: same verb.
      return (held.verb === 'All' || held.verb === r.verb) && scopeMatch(held.scope, r.scope);
    }
    case 'Context':
      return contextSatisfies(held, required as typeof held);
    case 'Keys':
      return held.verb === 'All' || permissionEquals(held, required); // 23, 24
    case 'Package':
      return false; // 25: only `admin` or the exact string (§6 rule a) meets a Package requirement
  }
}

type ContextPermission = Extract<Permission, { family: 'Context' }>;

function contextSatisfies(held: ContextPermission, r: ContextPermission): boolean {
  switch (held.verb) {
    case 'All':
      return r.verb === 'All' && scopeMatch(held.scope, r.scope); // 13, 14: the umbrella only satisfies itself
    case 'Leave':
    case 'Invite':
      return r.verb === held.verb && scopeMatch(held.scope, r.scope) && userMatch(held.user, r.user); // 16
    case 'Execute':
      return (
        r.verb === 'Execute' &&
        scopeMatch(held.scope, r.scope) &&
        userMatch(held.user, r.user) &&
        methodMatch(held.method, r.method)
      ); // 17
    case 'Alias.All':
      return r.verb.startsWith('Alias.') && scopeMatch(held.scope, r.scope); // 18
    case 'Alias.Create':
    case 'Alias.List':
    case 'Alias.Lookup':
    case 'Alias.Delete':
      // 19; against Alias.All (20) or any other verb the verbs differ.
      return r.verb === held.verb && held.aliasType === r.aliasType && scopeMatch(held.scope, r.scope);
    default:
      // Create, List, Delete (15), Capabilities.Grant/Revoke (21), Application.Update (22).
      return r.verb === held.verb && scopeMatch(held.scope, r.scope);
  }
}
