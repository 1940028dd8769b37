/**
 * Effective permissions (wire-contract §4.5 step 7, permissions.md §11.7 line 70): the token's
 * claims that the key still holds, as exact strings, in claim order. A removal from the key takes
 * effect at once; an addition only reaches the next minted token.
 */
export function effectivePermissions(claims: readonly string[], keyPermissions: readonly string[]): string[] {
  // Grant sets are a handful of strings: a linear scan beats building a Set per request.
  if (keyPermissions.length <= 16) return claims.filter((p) => keyPermissions.includes(p));
  const held = new Set(keyPermissions);
  return claims.filter((p) => held.has(p));
}
