import type { ResourceScope, UserScope } from './permission.js';

/** §5: Global held covers everything; Specific held covers a Specific requirement whose ids it all holds. */
export function scopeMatch(held: ResourceScope, required: ResourceScope): boolean {
  if (held.kind === 'Global') return true;
  if (required.kind === 'Global') return false;
  for (const id of required.ids) if (!held.ids.includes(id)) return false;
  return true;
}

/** §5: Any held covers everything; a specific user covers only the same specific user. */
export function userMatch(held: UserScope, required: UserScope): boolean {
  if (held.kind === 'Any') return true;
  return required.kind === 'Specific' && held.user === required.user;
}

/** §5: absent on either side matches (a method-restricted grant meets an unrestricted requirement). */
export function methodMatch(held: string | undefined, required: string | undefined): boolean {
  return held === undefined || required === undefined || held === required;
}
