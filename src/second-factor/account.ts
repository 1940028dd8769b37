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
  const [username] = await core.users.usernamesOfKey(keyId);
  const key = username === undefined ? undefined : await core.keys.getRoot(keyId);
  if (username !== undefined && key !== undefined && isValidKey(key, nowSeconds(core.clock))) return { username, keyId };
  throw new AuthError('forbidden', 'Second factors belong to an account: sign in with its username and password first');
}

/** The refusal of a second-factor change from a session that is not fresh enough. */
export const REAUTH_MESSAGE = 'Changing second factors needs a recent sign-in: sign in again, then retry';

/**
 * Second factors may change only from a session opened by a sign-in (password, with its second
 * factor, or passkey) within `second_factor.reauth_seconds`. The session's `created_at` is its
 * login time and a refresh never moves it, so a stolen access token, a long-refreshed session or
 * one opened before a factor was turned on cannot plant a passkey or turn the policy off.
 */
export async function requireRecentSignIn(core: Core, sid: string): Promise<void> {
  const session = await core.sessions.get(sid);
  const now = nowSeconds(core.clock);
  if (session === undefined || now - session.created_at > core.config.second_factor.reauth_seconds) {
    throw new AuthError('reauthentication_required', REAUTH_MESSAGE);
  }
}
