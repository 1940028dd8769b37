/**
 * The absolute lifetime of a session (`jwt.session_max_age`): refreshing keeps a session alive,
 * but never past its creation plus this age. After it, refresh answers 401 and the client must
 * log in again; no token of the session is ever minted to outlive it.
 */
export interface LifetimeConfig {
  /** Seconds from login; 0 = unlimited (the Rust service's behaviour, on request only). */
  session_max_age: number;
}

/** When a session opened at `createdAt` ends for good; undefined when it never does. */
export function sessionEnd(jwt: LifetimeConfig, createdAt: number): number | undefined {
  return jwt.session_max_age > 0 ? createdAt + jwt.session_max_age : undefined;
}

/** `exp`, but no later than the session's end. */
export function cappedAt(exp: number, end: number | undefined): number {
  return end === undefined ? exp : Math.min(exp, end);
}
