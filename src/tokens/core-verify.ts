import type { Core } from '../core.js';
import { nowSeconds } from '../util/clock.js';
import type { TokenClaims, TokenType } from './claims.js';
import { NEEDS_JOSE, verifySync, verifyToken, type VerifyOptions } from './verify.js';

function options(core: Core, ignoreExpiry: boolean): VerifyOptions {
  return {
    issuer: core.config.jwt.issuer,
    leewaySeconds: core.config.jwt.leeway_seconds,
    nowSeconds: nowSeconds(core.clock),
    ignoreExpiry,
    cache: core.signatureCache,
  };
}

/** verifyToken with the service's issuer, leeway and clock (wire §4.5 entry points 1–3). */
export function verifyWithCore(core: Core, token: string, type: TokenType, ignoreExpiry = false): Promise<TokenClaims> {
  return verifyToken(token, type, core.secrets, options(core, ignoreExpiry));
}

/** verifySync with the service's issuer, leeway and clock: claims, a TokenError, or NEEDS_JOSE. */
export function verifyAccessSync(core: Core, token: string): TokenClaims | typeof NEEDS_JOSE {
  return verifySync(token, 'access', core.secrets, options(core, false));
}

export { NEEDS_JOSE };
