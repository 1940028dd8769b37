import type { TokenClaims } from '../tokens/claims.js';

/** The body of every allowed `/auth/validate` (wire §3.4): the envelope around an empty string. */
export const VALIDATE_ALLOW_BODY = JSON.stringify({ data: '', error: null });

// A header value must be visible ASCII (wire §2.3); a claim that is not is left out, not mangled.
const HEADER_VALUE = /^[\x20-\x7e\t]*$/;
// Cached claims are frozen and shared by every request with the same token: answer once per token.
const memo = new WeakMap<TokenClaims, Readonly<Record<string, string>>>();

/** `X-Auth-User` and `X-Auth-Permissions` of an allowed validation (wire §3.4, §7.7). */
export function allowHeaders(claims: TokenClaims): Readonly<Record<string, string>> {
  const hit = memo.get(claims);
  if (hit !== undefined) return hit;
  const headers: Record<string, string> = {};
  if (HEADER_VALUE.test(claims.sub)) headers['x-auth-user'] = claims.sub;
  const perms = claims.permissions.join(',');
  if (perms !== '' && HEADER_VALUE.test(perms)) headers['x-auth-permissions'] = perms;
  Object.freeze(headers);
  if (Object.isFrozen(claims)) memo.set(claims, headers);
  return headers;
}
