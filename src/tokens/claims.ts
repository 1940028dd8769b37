/** The JWT claims of wire §4.2, in serialisation order. */
export type TokenType = 'access' | 'refresh';

export interface TokenClaims {
  sub: string;
  iss: string;
  aud: string;
  exp: number;
  iat: number;
  jti: string;
  token_type: TokenType;
  permissions: string[];
  node_url?: string;
  sid: string;
}

/** Rebuilds the claims in the documented order so every token serialises identically. */
export function orderedClaims(c: TokenClaims): TokenClaims {
  const out: TokenClaims = {
    sub: c.sub,
    iss: c.iss,
    aud: c.aud,
    exp: c.exp,
    iat: c.iat,
    jti: c.jti,
    token_type: c.token_type,
    permissions: c.permissions,
    sid: c.sid,
  };
  if (c.node_url === undefined) return out;
  // node_url sits before sid in the wire order.
  const { sid, ...rest } = out;
  return { ...rest, node_url: c.node_url, sid };
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
}
