import type { webcrypto } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { CompactSign } from 'jose';
import { tokenHeader, type JwtAlgorithm } from '../secrets/scheme.js';
import { withLowS } from './ecdsa-low-s.js';
import { orderedClaims, type TokenClaims, type TokenPair } from './claims.js';
import { cappedAt } from './session-lifetime.js';

export interface SigningKeySource {
  signingKey(): webcrypto.CryptoKey;
  /** `jwt.algorithm`; absent = HS256. */
  readonly algorithm?: JwtAlgorithm;
  /** The signing key's kid (asymmetric algorithms only). */
  signingKid?(): string | undefined;
}

const encoder = new TextEncoder();

/**
 * Signs claims exactly as given (order preserved). Header `{"typ":"JWT","alg":"HS256"}` under
 * HS256, as Rust (no kid); `{"alg":"EdDSA"|"ES256","typ":"JWT","kid":…}` with a keypair.
 */
export async function signClaims(claims: TokenClaims, keys: SigningKeySource): Promise<string> {
  const payload = encoder.encode(JSON.stringify(orderedClaims(claims)));
  const alg = keys.algorithm ?? 'HS256';
  const token = await new CompactSign(payload).setProtectedHeader(tokenHeader(alg, keys.signingKid?.())).sign(keys.signingKey());
  return alg === 'ES256' ? withLowS(token) : token;
}

export interface PairSpec {
  sub: string;
  sid: string;
  permissions: string[];
  nodeUrl?: string | undefined;
  issuer: string;
  nowSeconds: number;
  accessExpiry: number;
  refreshExpiry: number;
  /** The session's absolute end (jwt.session_max_age): neither token outlives it. */
  sessionEnd?: number | undefined;
}

/** Claims of a fresh pair: same iat, own jti and exp for each token (wire §4.2–4.3). */
export function pairClaims(spec: PairSpec): { access: TokenClaims; refresh: TokenClaims } {
  const base = {
    sub: spec.sub,
    iss: spec.issuer,
    aud: spec.issuer,
    iat: spec.nowSeconds,
    permissions: [...spec.permissions],
    sid: spec.sid,
    ...(spec.nodeUrl === undefined ? {} : { node_url: spec.nodeUrl }),
  };
  return {
    access: {
      ...base,
      exp: cappedAt(spec.nowSeconds + spec.accessExpiry, spec.sessionEnd),
      jti: randomUUID(),
      token_type: 'access',
    },
    refresh: {
      ...base,
      exp: cappedAt(spec.nowSeconds + spec.refreshExpiry, spec.sessionEnd),
      jti: randomUUID(),
      token_type: 'refresh',
    },
  };
}

export async function signPair(
  claims: { access: TokenClaims; refresh: TokenClaims },
  keys: SigningKeySource,
): Promise<TokenPair> {
  const [access_token, refresh_token] = await Promise.all([signClaims(claims.access, keys), signClaims(claims.refresh, keys)]);
  return { access_token, refresh_token };
}
