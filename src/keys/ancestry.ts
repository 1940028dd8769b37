import type { Core } from '../core.js';
import { checkClientKeyParent, type ParentRefusal } from '../permissions/client-key.js';
import type { KeyRecord } from './key.js';

const MAX_DEPTH = 32;

/**
 * The answer for a client key whose chain no longer holds (a key above it revoked, expired,
 * deleted, or no longer granting what it handed down): 403 token_revoked, as terminal as a
 * revoked key, at every entry point.
 */
export const CHAIN_BROKEN = 'Client key is no longer authorised by its root key';

export type ChainProblem = ParentRefusal['code'];

/**
 * The walk up a client key's chain, one parent at a time: yields the id of the next parent and
 * is resumed with its record (undefined when it does not exist). Written once, driven from storage
 * (chainProblem) and inside the access decision (src/auth/validate.ts), so the two cannot disagree.
 */
export function* chainSteps(key: KeyRecord, now: number): Generator<string, ChainProblem | undefined, KeyRecord | undefined> {
  const seen = new Set<string>();
  let child = key;
  while (child.key_type === 'Client') {
    const parentId = child.root_key_id;
    if (parentId === null || seen.has(parentId) || seen.size >= MAX_DEPTH) return 'parent_missing';
    seen.add(parentId);
    const parent = yield parentId;
    const refusal = checkClientKeyParent(parent, child.permissions, now);
    if (refusal !== undefined) return refusal.code;
    child = parent as KeyRecord;
  }
  return undefined;
}

/**
 * A client key's authority comes from the chain of keys that minted it: every ancestor must
 * exist, be valid, and still grant everything its child holds (permissions.md §9, applied up the
 * whole chain, so a key minted by a client key dies with any key above it). Undefined when the
 * chain holds; a root key has no chain.
 */
export async function chainProblem(core: Core, key: KeyRecord, now: number): Promise<ChainProblem | undefined> {
  const steps = chainSteps(key, now);
  for (let step = steps.next(); ; ) {
    if (step.done) return step.value;
    step = steps.next(await core.keys.get(step.value));
  }
}
