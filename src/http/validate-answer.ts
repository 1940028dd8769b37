import type { TokenClaims } from '../tokens/claims.js';
import { isVisibleAscii } from '../util/visible-ascii.js';

/** The body of every allowed `/auth/validate` (wire §3.4): the envelope around an empty string. */
export const VALIDATE_ALLOW_BODY = JSON.stringify({ data: '', error: null });

// Cached claims are frozen and shared by every request with the same token: answer once per token.
const memo = new WeakMap<TokenClaims, Readonly<Record<string, string>>>();

/**
 * `X-Auth-User` and `X-Auth-Permissions` naming a caller (wire §2.3): a value that is not visible
 * ASCII is left out, not mangled.
 */
export function identityHeaders(user: string, permissions: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  if (isVisibleAscii(user)) headers['x-auth-user'] = user;
  const perms = permissions.join(',');
  if (perms !== '' && isVisibleAscii(perms)) headers['x-auth-permissions'] = perms;
  return headers;
}

/** The identity headers of an allowed validation: the token's subject and claims (wire §3.4, §7.7). */
export function allowHeaders(claims: TokenClaims): Readonly<Record<string, string>> {
  const hit = memo.get(claims);
  if (hit !== undefined) return hit;
  const headers = Object.freeze(identityHeaders(claims.sub, claims.permissions));
  if (Object.isFrozen(claims)) memo.set(claims, headers);
  return headers;
}
