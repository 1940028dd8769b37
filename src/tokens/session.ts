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
}

export const sessionKey = (sid: string): string => `session:${sid}`;
export const keySessionsPrefix = (keyId: string): string => `idx:key_sessions:${keyId}:`;
export const keySessionKey = (keyId: string, sid: string): string => `idx:key_sessions:${keyId}:${sid}`;
