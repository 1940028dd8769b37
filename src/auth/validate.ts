import type { Core } from '../core.js';
import { AuthError, unavailableFrom } from '../errors.js';
import { CHAIN_BROKEN, chainProblem, NOT_CACHED, peekChainProblem } from '../keys/ancestry.js';
import { isExpired, isRevoked, type KeyRecord } from '../keys/key.js';
import { effectivePermissions } from '../permissions/effective.js';
import type { TokenClaims } from '../tokens/claims.js';
import { peekVerifiedAccess, verifyWithCore } from '../tokens/core-verify.js';
import { checkNodeHost, type HostSource } from '../tokens/node-host.js';
import { TokenError } from '../tokens/token-error.js';
import { nowSeconds } from '../util/clock.js';
import { isVisibleAscii } from '../util/visible-ascii.js';

export interface Authenticated {
  claims: TokenClaims;
  key: KeyRecord;
  /** Claims ∩ the key's current permissions, in claim order (wire §4.5 step 7). */
  effective: string[];
}

/** Where the token came from and which answers the caller gives (wire §3.4 vs §4.5). */
export type CheckFlavour = 'validate' | 'bearer';

/**
 * Verifies an access token and everything behind it: node binding, key, session. Throws the
 * AuthError the flavour prescribes: `/auth/validate` answers 403 invalid_node and hides an
 * expired key as "Key not found"; the bearer check answers 401 invalid_token for both.
 */
export async function authenticateAccess(
  core: Core,
  token: string,
  host: HostSource,
  flavour: CheckFlavour,
): Promise<Authenticated> {
  // The hot path (a token, key and session seen before) runs without an await: each lookup peeks
  // at the caches first and only falls back to the asynchronous path on a miss.
  let claims = peekVerifiedAccess(core, token);
  if (claims === undefined) {
    try {
      claims = await verifyWithCore(core, token, 'access');
    } catch (e) {
      if (e instanceof TokenError && e.kind === 'expired') {
        throw new AuthError('token_expired', `Invalid token: ${e.message}`);
      }
      throw new AuthError('invalid_token', `Invalid token: ${(e as Error).message}`);
    }
  }
  const hostProblem = checkNodeHost(claims.node_url, host);
  if (hostProblem !== undefined) {
    throw new AuthError(flavour === 'validate' ? 'invalid_node' : 'invalid_token', hostProblem);
  }
  let key = core.keys.peek(claims.sub);
  if (key === undefined) {
    try {
      key = await core.keys.get(claims.sub);
    } catch (e) {
      throw lookupFailure(e);
    }
  }
  if (!key) throw new AuthError('invalid_token', 'Key not found');
  if (isRevoked(key)) throw new AuthError('token_revoked', 'Key has been revoked');
  const now = nowSeconds(core.clock);
  if (isExpired(key, now)) {
    throw new AuthError('invalid_token', flavour === 'validate' ? 'Key not found' : 'Key expired');
  }
  if (key.key_type === 'Client') {
    let problem = peekChainProblem(core, key, now);
    if (problem === NOT_CACHED) {
      try {
        problem = await chainProblem(core, key, now);
      } catch (e) {
        throw lookupFailure(e);
      }
    }
    if (problem !== undefined) throw new AuthError('token_revoked', CHAIN_BROKEN);
  }
  let session = core.sessions.peek(claims.sid);
  if (session === undefined) {
    try {
      session = await core.sessions.get(claims.sid);
    } catch (e) {
      throw lookupFailure(e);
    }
  }
  if (!session) throw new AuthError('invalid_token', 'Session not found');
  if (session.revoked_at !== null) throw new AuthError('token_revoked', 'Session has been revoked');

  return { claims, key, effective: effectiveOf(claims, key) };
}

/**
 * authenticateAccess answered from memory, without an await: the result when the token, its
 * key and its session are all cached and every check passes; undefined otherwise (a cache miss
 * or any refusal), and then authenticateAccess gives the answer with its exact error.
 */
export function peekAuthenticated(core: Core, token: string, host: HostSource): Authenticated | undefined {
  const claims = peekVerifiedAccess(core, token);
  if (claims === undefined || checkNodeHost(claims.node_url, host) !== undefined) return undefined;
  const key = core.keys.peek(claims.sub);
  const now = nowSeconds(core.clock);
  if (key === undefined || isRevoked(key) || isExpired(key, now)) return undefined;
  if (key.key_type === 'Client' && peekChainProblem(core, key, now) !== undefined) return undefined;
  const session = core.sessions.peek(claims.sid);
  if (session === undefined || session.revoked_at !== null) return undefined;
  return { claims, key, effective: effectiveOf(claims, key) };
}

// Cached claims and key records are frozen and replaced (never mutated) when they change, so the
// intersection can be remembered per pair of objects.
const effectiveMemo = new WeakMap<TokenClaims, { key: KeyRecord; effective: string[] }>();

function effectiveOf(claims: TokenClaims, key: KeyRecord): string[] {
  const hit = effectiveMemo.get(claims);
  if (hit !== undefined && hit.key === key) return hit.effective;
  const effective = effectivePermissions(claims.permissions, key.permissions);
  if (Object.isFrozen(claims) && Object.isFrozen(key)) effectiveMemo.set(claims, { key, effective: Object.freeze(effective) as string[] });
  return effective;
}

/** Token sources of `/auth/validate`, in order (wire §3.4). */
export function tokenFromRequest(authorization: string | undefined, forwardedUri: string | undefined): string | undefined {
  if (authorization !== undefined && isVisibleAscii(authorization) && authorization.startsWith('Bearer ')) {
    return authorization.slice(7).trim();
  }
  if (forwardedUri !== undefined) {
    const q = forwardedUri.indexOf('?');
    if (q !== -1) {
      const end = forwardedUri.indexOf('?', q + 1);
      const query = forwardedUri.slice(q + 1, end === -1 ? undefined : end);
      for (const item of query.split('&')) {
        if (item.startsWith('token=')) return item.slice('token='.length);
      }
    }
  }
  return undefined;
}

/**
 * A failed key or session lookup: Rust's 401 `Failed to verify key`, except when the shared
 * database is out of reach — then 503, so a client does not throw away a good token.
 */
function lookupFailure(e: unknown): AuthError {
  return unavailableFrom(e) ?? new AuthError('invalid_token', 'Failed to verify key');
}
