/** The session (token family) record of wire §6.4. */
export type RevokeReason = 'refresh_reuse' | 'key_revoked' | 'password_change' | 'logout';

export interface SessionRecord {
  key_id: string;
  created_at: number;
  updated_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_reason: RevokeReason | null;
  generation: number;
  /**
   * Additions (not in the Rust service, which has no sessions; absent from records written
   * before them, which read as null): who opened the session, for the account holder's session
   * list (`GET /admin/sessions`). `client_name` is the login's sanitised `client_name` (a URL
   * or a tool's name) or a client key's name, `address` the client address the opening request
   * came from (wire §8.1), both capped at SESSION_LABEL_MAX characters.
   */
  client_name?: string;
  address?: string;
  /** When the last refresh exchange succeeded (absent: never refreshed). */
  last_refresh_at?: number;
}

/** Where a session was opened from (both optional: embedded callers may not know). */
export interface SessionOrigin {
  clientName?: string | undefined;
  address?: string | undefined;
}

/** The longest `client_name` / `address` a session record keeps (longer values are cut). */
export const SESSION_LABEL_MAX = 256;

export const sessionKey = (sid: string): string => `session:${sid}`;
export const keySessionsPrefix = (keyId: string): string => `idx:key_sessions:${keyId}:`;
export const keySessionKey = (keyId: string, sid: string): string => `idx:key_sessions:${keyId}:${sid}`;
