import type { Core } from '../core.js';
import { AuthError } from '../errors.js';
import type { KeyRecord } from '../keys/key.js';
import type { TokenClaims } from '../tokens/claims.js';
import type { HostSource } from '../tokens/node-host.js';
import { authenticateAccess } from './validate.js';
import { isVisibleAscii } from '../util/visible-ascii.js';

/** The caller behind a bearer token that passed the check (wire §4.5 step 8). */
export interface BearerCaller {
  keyId: string;
  sid: string;
  /** Claims ∩ the key's current permissions, in claim order. */
  permissions: string[];
  key: KeyRecord;
  claims: TokenClaims;
}

const SCHEME = 'Bearer ';

/**
 * Bearer check steps 1–2 (wire §4.5), the middleware form: the token of an `Authorization`
 * header, or an `invalid_request` AuthError. Every leading `Bearer ` is stripped, then the rest
 * is trimmed (`Bearer Bearer x` → `x`, as Rust's `trim_start_matches`).
 */
export function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined) throw new AuthError('invalid_request', 'Missing Authorization header');
  if (!isVisibleAscii(authorization)) {
    throw new AuthError('invalid_request', 'Invalid Authorization header: failed to convert header to a str');
  }
  if (!authorization.startsWith(SCHEME)) {
    throw new AuthError('invalid_request', "Invalid Authorization header format. Expected 'Bearer <token>'");
  }
  let rest = authorization;
  while (rest.startsWith(SCHEME)) rest = rest.slice(SCHEME.length);
  return rest.trim();
}

/**
 * Bearer check from step 2 (wire §4.5): for a token that did not come from a header (the
 * embedded guard's `?token=`). Throws an AuthError: `invalid_request` (empty token),
 * `token_expired`, `token_revoked` (key or session) or `invalid_token` (everything else,
 * storage errors included).
 */
export async function checkBearerToken(core: Core, token: string, host: HostSource): Promise<BearerCaller> {
  if (token === '') throw new AuthError('invalid_request', 'Empty token provided');
  const { claims, key, effective } = await authenticateAccess(core, token, host, 'bearer');
  return { keyId: claims.sub, sid: claims.sid, permissions: effective, key, claims };
}

/** The whole bearer check (wire §4.5 steps 1–8) on an `Authorization` header value. */
export function checkBearer(core: Core, authorization: string | undefined, host: HostSource): Promise<BearerCaller> {
  let token: string;
  try {
    token = bearerToken(authorization);
  } catch (e) {
    return Promise.reject(e);
  }
  return checkBearerToken(core, token, host);
}
