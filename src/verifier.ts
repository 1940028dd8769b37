import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { TokenClaims } from './tokens/claims.js';

/** The algorithms a remote verifier accepts: the asymmetric ones (HS256 has no public key). */
export type RemoteAlgorithm = 'EdDSA' | 'ES256';

export interface RemoteVerifierOptions {
  /** `jwt.issuer` of the service; also the audience of every token. Default `calimero-auth`. */
  issuer?: string;
  /** `jwt.algorithm` of the service; default both asymmetric ones. Never HS256. */
  algorithms?: RemoteAlgorithm[];
  /** Clock-skew tolerance in seconds for exp (default 60, as `jwt.leeway_seconds`). */
  leewaySeconds?: number;
}

/**
 * A verifier of the service's access tokens for a node server running in another process: it
 * fetches the public keys from `GET /auth/jwks.json` (cached, refetched on an unknown kid) and
 * checks signature, algorithm, expiry, issuer, audience and `token_type: "access"` offline. It
 * does not see revocations (key or session): `/auth/validate` does. Rejects with a jose error.
 */
export function createRemoteVerifier(
  jwksUrl: string | URL,
  opts: RemoteVerifierOptions = {},
): (token: string) => Promise<TokenClaims> {
  const keys = createRemoteJWKSet(new URL(jwksUrl));
  const issuer = opts.issuer ?? 'calimero-auth';
  const algorithms = opts.algorithms ?? ['EdDSA', 'ES256'];
  return async (token) => {
    const { payload } = await jwtVerify(token, keys, {
      algorithms,
      issuer,
      audience: issuer,
      clockTolerance: opts.leewaySeconds ?? 60,
      requiredClaims: ['exp', 'sub', 'jti', 'sid'],
    });
    if (payload.token_type !== 'access') throw new TypeError('not an access token');
    return payload as JWTPayload & TokenClaims;
  };
}
