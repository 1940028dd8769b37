import type { Core } from '../core.js';
import { nowSeconds } from '../util/clock.js';
import type { TokenClaims, TokenType } from './claims.js';
import { verifyToken } from './verify.js';

/** verifyToken with the service's issuer, leeway and clock (wire §4.5 entry points 1–3). */
export function verifyWithCore(
  core: Core,
  token: string,
  type: TokenType,
  ignoreExpiry = false,
): Promise<TokenClaims> {
  return verifyToken(token, type, core.secrets, {
    issuer: core.config.jwt.issuer,
    leewaySeconds: core.config.jwt.leeway_seconds,
    nowSeconds: nowSeconds(core.clock),
    ignoreExpiry,
    cache: core.signatureCache,
  });
}
