import { isRevoked, type KeyRecord } from '../keys/key.js';
import { parseHeldPermission } from './held-cache.js';
import { satisfies } from './satisfies.js';

/**
 * `Key.hasPermission` (permissions.md §7.1): may this key hand `required` on to a client key?
 * Unlike §6 there is no exact-string fallback, and expiry is not checked here.
 */
export function keyHasPermission(key: KeyRecord, required: string): boolean {
  if (isRevoked(key)) return false;
  const r = parseHeldPermission(required);
  if (r === undefined) return false; // even for a key holding `admin`
  // A raw string test: root keys implicitly hold `admin`, but `admin[x]` takes no shortcut.
  if (key.key_type === 'Root' && (required === 'admin' || required.startsWith('admin:'))) return true;
  if (key.permissions.includes('admin')) return true;
  for (const s of key.permissions) {
    const h = parseHeldPermission(s);
    if (h !== undefined && satisfies(h, r)) return true;
  }
  return false;
}
