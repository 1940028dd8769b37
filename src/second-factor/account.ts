import type { Core } from '../core.js';
import { AuthError } from '../errors.js';
import { isValidKey } from '../keys/key.js';
import { nowSeconds } from '../util/clock.js';

/** A signed-in account holder, as the second-factor routes see them. */
export interface AccountRef {
  username: string;
  keyId: string;
}

/**
 * The account whose root key signed the caller's token. Second factors belong to accounts
 * (user records); a client key or a mock key has none, and is refused.
 */
export async function accountOfKey(core: Core, keyId: string): Promise<AccountRef> {
  for (const [username, user] of await core.users.list()) {
    if (user.key_id !== keyId) continue;
    const key = await core.keys.getRoot(keyId);
    if (key !== undefined && isValidKey(key, nowSeconds(core.clock))) return { username, keyId };
  }
  throw new AuthError('forbidden', 'Second factors belong to an account: sign in with its username and password first');
}
