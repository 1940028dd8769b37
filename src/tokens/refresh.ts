import type { Core } from '../core.js';
import { AuthError } from '../errors.js';
import { isExpired, isRevoked, type KeyRecord } from '../keys/key.js';
import { CHAIN_BROKEN, chainProblem } from '../keys/ancestry.js';
import { countRevocations, revokeKeyOps } from '../keys/revoke.js';
import { encodeJson, getJson, putOp } from '../storage/store.js';
import { nowSeconds } from '../util/clock.js';
import { shortId } from '../util/logger.js';
import type { TokenClaims, TokenPair } from './claims.js';
import type { RefreshOutcome } from '../metrics/index.js';
import { verifyWithCore } from './core-verify.js';
import { pairClaims, signPair } from './mint.js';
import { checkNodeHost, type HostSource } from './node-host.js';
import { sessionKey } from './session.js';
import { sessionEnd } from './session-lifetime.js';
import { TokenError } from './token-error.js';

/** `system:refresh:consumed:<jti>` (wire §6.5). */
export interface ConsumedMarker {
  exp: number;
  sid: string;
  consumed_at: number;
  successor: { access: TokenClaims; refresh: TokenClaims };
}

/** The 401 of a session past `jwt.session_max_age`: the client must log in again. */
export const SESSION_TOO_OLD = 'Invalid refresh token: Session has reached its maximum age; log in again';

export const consumedKey = (jti: string): string => `system:refresh:consumed:${jti}`;

/**
 * `POST /auth/refresh` after body extraction: wire §3.3 steps 2–12 and the single-use exchange
 * of §4.7. Never produces `token_expired`.
 */
export async function refreshTokens(core: Core, accessToken: string, refreshToken: string, host: HostSource): Promise<TokenPair> {
  const onOutcome = (o: RefreshOutcome) => core.metrics.refresh(o);
  const fail = (
    code: 'unauthorized' | 'invalid_node' | 'token_revoked' | 'token_reuse' | 'internal',
    m: string,
    o: RefreshOutcome,
    cause?: unknown,
  ): never => {
    onOutcome(o);
    throw new AuthError(code, m, { cause });
  };
  const L = core.config.jwt.leeway_seconds;

  let access: TokenClaims;
  try {
    access = await verifyWithCore(core, accessToken, 'access', true);
  } catch (e) {
    return fail('unauthorized', `Invalid access token: ${messageOf(e)}`, 'invalid');
  }
  if (access.exp + L >= nowSeconds(core.clock)) return fail('unauthorized', 'Access token still valid', 'invalid');

  let refresh: TokenClaims;
  try {
    refresh = await verifyWithCore(core, refreshToken, 'refresh');
  } catch (e) {
    return fail('unauthorized', `Invalid refresh token: ${messageOf(e)}`, 'invalid');
  }
  if (access.sub !== refresh.sub) {
    return fail('unauthorized', 'Access and refresh tokens do not belong to the same subject', 'invalid');
  }
  // A pair is one session's: an old access token of another session must not ride along.
  if (access.sid !== refresh.sid) {
    return fail('unauthorized', 'Access and refresh tokens do not belong to the same session', 'invalid');
  }
  const hostProblem = checkNodeHost(refresh.node_url, host);
  if (hostProblem !== undefined) return fail('invalid_node', hostProblem, 'invalid');

  const storageFail = (e: unknown): never =>
    fail('internal', `Failed to refresh token: Storage error: ${messageOf(e)}`, 'error', e);

  const key = await core.keys.get(refresh.sub).catch(storageFail);
  const now = nowSeconds(core.clock);
  if (!key) return fail('unauthorized', 'Invalid refresh token: Key not found', 'invalid');
  if (isRevoked(key)) return fail('token_revoked', 'Key has been revoked', 'revoked');
  if (isExpired(key, now)) return fail('unauthorized', 'Invalid refresh token: Key expired', 'invalid');

  const session = await core.sessions.get(refresh.sid).catch(storageFail);
  if (!session) return fail('unauthorized', 'Invalid refresh token: Session not found', 'invalid');
  if (session.revoked_at !== null) return fail('token_revoked', 'Session has been revoked', 'revoked');
  const end = sessionEnd(core.config.jwt, session.created_at);
  if (end !== undefined && now >= end) {
    return fail('unauthorized', SESSION_TOO_OLD, 'invalid');
  }

  // Every key above a client key must exist, be valid and still grant what it handed down (§9).
  if (key.key_type === 'Client' && (await chainProblem(core, key, now).catch(storageFail)) !== undefined) {
    return fail('token_revoked', CHAIN_BROKEN, 'revoked');
  }

  const successor = pairClaims({
    sub: refresh.sub,
    sid: refresh.sid,
    permissions: key.permissions,
    nodeUrl: refresh.node_url,
    issuer: core.config.jwt.issuer,
    nowSeconds: now,
    accessExpiry: core.config.jwt.access_token_expiry,
    refreshExpiry: core.config.jwt.refresh_token_expiry,
    sessionEnd: end,
  });

  // This session's section only: refreshes of other sessions run alongside, while a writer that
  // revokes many sessions at once (key revocation, password change, sweep) excludes them all.
  const decision = await core.sessionLocks
    .run(refresh.sid, async () => {
      const current = await core.sessions.get(refresh.sid);
      if (!current) return { kind: 'gone' as const };
      if (current.revoked_at !== null) return { kind: 'revoked' as const };
      const marker: ConsumedMarker = { exp: refresh.exp, sid: refresh.sid, consumed_at: now, successor };
      const won = await core.store.putIfAbsent(consumedKey(refresh.jti), encodeJson(marker), [
        putOp(sessionKey(refresh.sid), {
          ...current,
          updated_at: now,
          expires_at: successor.refresh.exp,
          generation: current.generation + 1,
          last_refresh_at: now,
        }),
      ]);
      if (won) return { kind: 'won' as const };
      const existing = await getJson<ConsumedMarker>(core.store, consumedKey(refresh.jti));
      const grace = core.config.jwt.refresh_reuse_grace_seconds;
      if (
        existing &&
        grace > 0 &&
        now - existing.consumed_at <= grace &&
        !(await core.store.has(consumedKey(existing.successor.refresh.jti)))
      ) {
        return { kind: 'grace' as const, claims: existing.successor };
      }
      // Reuse: end the family. A client key dies with it (below, once this section is over); a
      // root key never does.
      const ops = [core.sessions.revokeOp(refresh.sid, current, 'refresh_reuse', now)];
      await core.store.batch(ops);
      core.metrics.sessionsRevoked('refresh_reuse');
      return { kind: 'reuse' as const };
    })
    .catch(storageFail);
  if (decision.kind === 'reuse') {
    if (key.key_type === 'Client') await revokeClientAfterReuse(core, refresh.sub, key, now);
    core.log.warn({ key: shortId(refresh.sub) }, 'refresh token reuse detected; session revoked');
  }

  switch (decision.kind) {
    case 'gone':
      return fail('unauthorized', 'Invalid refresh token: Session not found', 'invalid');
    case 'revoked':
      return fail('token_revoked', 'Session has been revoked', 'revoked');
    case 'reuse':
      return fail('token_reuse', 'Refresh token reuse detected; re-authentication required', 'reuse');
    case 'grace':
    case 'won': {
      const claims = decision.kind === 'grace' ? decision.claims : successor;
      try {
        const pair = await signPair(claims, core.secrets);
        onOutcome(decision.kind === 'grace' ? 'grace_replay' : 'success');
        return pair;
      } catch (e) {
        return fail('internal', `Failed to refresh token: Token generation failed: ${messageOf(e)}`, 'error');
      }
    }
  }
}

/**
 * Reuse of a client family revokes the client key and, with it, its other sessions. Those are
 * refreshed under their own per-session sections, so this takes the exclusive sessionLock, which
 * a per-session section cannot (it holds the shared side): hence after that section, before the
 * 401 goes out. Best-effort: errors are logged.
 */
async function revokeClientAfterReuse(core: Core, id: string, key: KeyRecord, now: number): Promise<void> {
  try {
    await core.sessionLock.run(async () => {
      const fresh = (await core.keys.getClient(id)) ?? key;
      const revocation = await revokeKeyOps(core.keys, core.sessions, id, fresh, 'key_revoked', now);
      await core.store.batch(revocation);
      const counted = countRevocations(revocation);
      core.metrics.keysRevoked('client', counted.client);
      core.metrics.sessionsRevoked('key_revoked', counted.sessions);
    });
  } catch (e) {
    core.log.error({ err: messageOf(e) }, 'revoking a client key after refresh reuse failed');
  }
}

function messageOf(e: unknown): string {
  if (e instanceof TokenError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/** Deletes consumed markers whose token would fail verification anyway (exp + L < now). */
export async function sweepConsumed(core: Core): Promise<number> {
  const now = nowSeconds(core.clock);
  const L = core.config.jwt.leeway_seconds;
  // Streamed, deleted in batches like the session sweep's: memory stays flat however many there are.
  const batchOps = core.sessions.sweepBatchOps;
  let dels: Array<{ type: 'del'; key: string }> = [];
  let deleted = 0;
  for await (const [k, v] of core.store.iterate('system:refresh:consumed:')) {
    try {
      const m = JSON.parse(Buffer.from(v).toString('utf8')) as { exp?: unknown };
      const exp = typeof m === 'number' ? m : typeof m.exp === 'number' ? m.exp : undefined;
      if (exp !== undefined && exp + L < now) dels.push({ type: 'del' as const, key: k });
    } catch {
      // Unreadable marker: keep it; it still blocks a replay.
    }
    if (dels.length >= batchOps) {
      await core.store.batch(dels);
      deleted += dels.length;
      dels = [];
    }
  }
  if (dels.length > 0) await core.store.batch(dels);
  return deleted + dels.length;
}
