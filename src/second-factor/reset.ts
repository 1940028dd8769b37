import type { Core } from '../core.js';
import { canonicalUsername, findUser } from '../auth/username.js';

/**
 * The offline recovery path (`mero-auth set-admin --reset-second-factor`, issue 13): removes an
 * account's second-factor policy, TOTP seed, recovery codes and every passkey, so its password
 * alone signs in again. Undefined when there is no such account.
 */
export async function resetSecondFactor(
  core: Core,
  username: string,
): Promise<{ username: string; passkeys: number } | undefined> {
  const canonical = canonicalUsername(username);
  const found = canonical.ok ? await findUser(core.users, username, canonical.name) : undefined;
  if (found === undefined) return undefined;
  return core.accountLock.run(async () => {
    const ops = await core.secondFactors.resetOps(found.name);
    await core.store.batch(ops);
    // Each passkey is two deletes (record and index entry); the policy record is one.
    return { username: found.name, passkeys: (ops.length - 1) / 2 };
  });
}
