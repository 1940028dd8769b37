import { parseHeldPermission } from './held-cache.js';
import type { Permission } from './permission.js';
import { renderPermission } from './render.js';
import { satisfies } from './satisfies.js';

/**
 * permissions.md §6: does the held set (a token's effective permission strings) meet every
 * required permission?
 *
 * Rules (a) exact canonical string and (b) `satisfies` are an OR, so (b) is tried first and the
 * rendering is built only when it fails: the common pass allocates nothing.
 */
export function validatePermissions(held: readonly string[], required: readonly Permission[]): boolean {
  // Step 1: only the literal string; `admin:x` / `admin[y]` still pass in step 4 as parsed Admin.
  if (held.includes('admin')) return true;
  // Step 2 is implied: with nothing required the loop below passes.
  for (const r of required) {
    if (!isMet(held, r)) return false;
  }
  return true;
}

function isMet(held: readonly string[], r: Permission): boolean {
  // Step 3 (parse, silently dropping failures) happens through the memo, once per string.
  for (const s of held) {
    const h = parseHeldPermission(s);
    if (h !== undefined && satisfies(h, r)) return true;
  }
  const canonical = renderPermission(r);
  return held.includes(canonical);
}
