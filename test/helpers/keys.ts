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

/** A valid client key record of `rootId` (what POST /admin/client-key writes), with any fields replaced. */
export function clientKeyRecord(rootId: string, over: Partial<KeyRecord> = {}): KeyRecord {
  return {
    key_type: 'Client',
    public_key: null,
    auth_method: null,
    root_key_id: rootId,
    name: 'Context Client - ctx (ident)',
    permissions: ['context:execute'],
    created_at: KEY_NOW,
    revoked_at: null,
    expires_at: null,
    ...over,
  };
}
