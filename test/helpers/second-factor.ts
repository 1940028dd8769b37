import type { PasskeyRecord } from '../../src/second-factor/records.js';

/** A stored passkey of `admin` (key `k1`), for tests that need one in the store; override what matters. */
export const passkeyRecord = (over: Partial<PasskeyRecord> = {}): PasskeyRecord => ({
  credential_id: 'cred-A',
  username: 'admin',
  key_id: 'k1',
  public_key: 'pQECAyYgASFYIA',
  counter: 3,
  transports: ['internal'],
  device_type: 'singleDevice',
  backed_up: false,
  name: 'laptop',
  created_at: 100,
  last_used_at: null,
  ...over,
});
