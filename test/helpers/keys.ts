import type { KeyRecord } from '../../src/keys/key.js';

/** The unit tests' fixed clock, in seconds. */
export const KEY_NOW = 1_700_000_000;

/** A valid root key record as provisioning writes it (wire §6.2), with any fields replaced. */
export function rootKeyRecord(over: Partial<KeyRecord> = {}): KeyRecord {
  return {
    key_type: 'Root',
    public_key: 'admin',
    auth_method: 'user_password',
    root_key_id: null,
    name: null,
    permissions: ['admin'],
    created_at: KEY_NOW,
    revoked_at: null,
    expires_at: null,
    ...over,
  };
}
