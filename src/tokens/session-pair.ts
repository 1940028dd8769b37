import type { Core } from '../core.js';
import type { BatchOp } from '../storage/store.js';
import type { TokenPair } from './claims.js';
import { pairClaims, signPair } from './mint.js';
import type { SessionOrigin } from './session.js';
import { cappedAt, sessionEnd } from './session-lifetime.js';

export interface SessionPairSpec {
  /** The key the session belongs to (`sub`). */
  keyId: string;
  permissions: string[];
  nodeUrl: string | undefined;
  /** Seconds; the session's creation time and the pair's `iat`. */
  now: number;
  /** Who opens the session (client name, address), kept on its record for the session list. */
  origin?: SessionOrigin;
}

/**
 * A new session for a key and its first token pair, signed (login, client-key mint, mock
 * token). Nothing is written: the caller commits `ops` (the session record and its key index
 * entry) when and how it must, after whatever checks it makes under its own lock. The session
 * and both tokens end no later than `jwt.session_max_age` after `now`.
 */
export async function openSessionPair(
  core: Pick<Core, 'config' | 'sessions' | 'secrets'>,
  spec: SessionPairSpec,
): Promise<{ sid: string; ops: BatchOp[]; pair: TokenPair }> {
  const { jwt } = core.config;
  const { now } = spec;
  const end = sessionEnd(jwt, now);
  const { sid, ops } = core.sessions.openOps(spec.keyId, cappedAt(now + jwt.refresh_token_expiry, end), now, spec.origin);
  const claims = pairClaims({
    sub: spec.keyId,
    sid,
    permissions: spec.permissions,
    nodeUrl: spec.nodeUrl,
    issuer: jwt.issuer,
    nowSeconds: now,
    accessExpiry: jwt.access_token_expiry,
    refreshExpiry: jwt.refresh_token_expiry,
    sessionEnd: end,
  });
  return { sid, ops, pair: await signPair(claims, core.secrets) };
}
