import type { Core } from '../core.js';
import { checkClientKeyParent, type ParentRefusal } from '../permissions/client-key.js';
import type { KeyRecord } from './key.js';

const MAX_DEPTH = 32;

/**
 * A client key's authority comes from the chain of keys that minted it: every ancestor must
 * exist, be valid, and still grant everything its child holds (permissions.md §9, applied up the
 * whole chain, so a key minted by a client key dies with any key above it). Undefined when the
 * chain holds; a root key has no chain.
 */
export async function chainProblem(core: Core, key: KeyRecord, now: number): Promise<ParentRefusal['code'] | undefined> {
  const seen = new Set<string>();
  let child = key;
  while (child.key_type === 'Client') {
    const parentId = child.root_key_id;
    if (parentId === null || seen.has(parentId) || seen.size >= MAX_DEPTH) return 'parent_missing';
    seen.add(parentId);
    const parent = await core.keys.get(parentId);
    const refusal = checkClientKeyParent(parent, child.permissions, now);
    if (refusal !== undefined) return refusal.code;
    child = parent as KeyRecord;
  }
  return undefined;
}
