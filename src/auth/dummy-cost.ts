import type { Core } from '../core.js';

/**
 * Keeps the unknown-user dummy hash as costly as the costliest stored account hash (see
 * PasswordHasher.matchDummyCost). Run at startup and whenever a stored hash changes; accounts
 * are few, so a scan is cheap. Best-effort: a failure leaves the previous dummy in place.
 */
export async function syncDummyCost(core: Core): Promise<void> {
  try {
    const users = await core.users.list();
    core.hasher.matchDummyCost(users.map(([, user]) => user.password_hash));
  } catch (e) {
    core.log.warn({ err: (e as Error).message }, 'could not compare stored password hash costs');
  }
}
