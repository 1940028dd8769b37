import type { Core } from '../core.js';
import { AuthError } from '../errors.js';
import { verifyWithCore } from '../tokens/core-verify.js';
import { TokenError } from '../tokens/token-error.js';
import { nowSeconds } from '../util/clock.js';

/** `POST /auth/logout` steps 2–5 (wire §3.10): idempotent, never touches the key. */
export async function endSession(core: Core, refreshToken: string): Promise<void> {
  let sid: string;
  try {
    sid = (await verifyWithCore(core, refreshToken, 'refresh')).sid;
  } catch (e) {
    if (e instanceof TokenError && e.kind === 'expired') return;
    throw new AuthError('unauthorized', `Invalid refresh token: ${(e as Error).message}`);
  }
  try {
    // This session's section: excludes its refresh and every writer that revokes it, nothing else.
    await core.sessionLocks.run(sid, async () => {
      const session = await core.sessions.get(sid);
      if (!session || session.revoked_at !== null) return;
      await core.store.batch([core.sessions.revokeOp(sid, session, 'logout', nowSeconds(core.clock))]);
      core.metrics.sessionsRevoked('logout');
    });
  } catch (e) {
    throw new AuthError('internal', `Failed to end session: Storage error: ${(e as Error).message}`, { cause: e });
  }
}
