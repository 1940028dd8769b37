import type { Permission, ResourceScope, UserScope } from './permission.js';
import { tryParsePermission } from './parse.js';

/**
 * Lenient parsing of held permission strings, memoised. The same few strings (a key's grant set)
 * are checked on every request, so each is parsed once per process rather than once per call.
 * The cache is bounded in entries and in key length, and evicts oldest-first; values are frozen
 * because they are shared between callers.
 */
const MAX_ENTRIES = 1024;
const MAX_KEY_LENGTH = 512;

// `null` records "does not parse", so garbage is not re-parsed either.
const cache = new Map<string, Permission | null>();

export function parseHeldPermission(s: string): Permission | undefined {
  const hit = cache.get(s);
  if (hit !== undefined) return hit ?? undefined;
  const parsed = tryParsePermission(s);
  if (s.length <= MAX_KEY_LENGTH) {
    if (cache.size >= MAX_ENTRIES) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(s, parsed === undefined ? null : deepFreeze(parsed));
  }
  return parsed;
}

/** For tests: the bound must hold. */
export function heldCacheSize(): number {
  return cache.size;
}

function deepFreeze(p: Permission): Permission {
  const scope = (p as { scope?: ResourceScope }).scope;
  if (scope?.kind === 'Specific') Object.freeze(scope.ids);
  if (scope !== undefined) Object.freeze(scope);
  const user = (p as { user?: UserScope }).user;
  if (user !== undefined) Object.freeze(user);
  return Object.freeze(p);
}
