import { describe, expect, it } from 'vitest';
import type { KeyRecord } from '../keys/key.js';
import { keyHasPermission } from './key-has-permission.js';

function key(key_type: 'Root' | 'Client', permissions: string[], extra: Partial<KeyRecord> = {}): KeyRecord {
  return {
    key_type,
    public_key: null,
    auth_method: null,
    root_key_id: key_type === 'Client' ? 'root-1' : null,
    name: null,
    permissions,
    created_at: 1,
    revoked_at: null,
    expires_at: null,
    ...extra,
  };
}

describe('keyHasPermission (§7.1)', () => {
  it.each<[string, KeyRecord, string, boolean]>([
    ['step 1: revoked', key('Root', ['admin'], { revoked_at: 10 }), 'context:list', false],
    ['step 1: an expired key is still checked', key('Root', ['admin'], { expires_at: 1 }), 'context:list', true],
    ['step 2: unparseable, even for admin', key('Root', ['admin']), 'context:subscribe', false],
    ['step 2: empty string', key('Root', ['admin']), '', false],
    ['step 3: root implicitly holds admin', key('Root', []), 'admin', true],
    ['step 3: root, admin:<x>', key('Root', ['keys:list']), 'admin:anything', true],
    ['step 3: admin[x] takes no shortcut', key('Root', ['keys:list']), 'admin[x]', false],
    ['step 3: no shortcut for client keys', key('Client', ['keys:list']), 'admin', false],
    ['step 4: a key holding the literal admin', key('Client', ['admin']), 'keys:permissions:update[k]', true],
    ['step 4: only the literal (admin:x is parsed in step 5)', key('Client', ['admin:x']), 'keys:list', true],
    ['step 5: hierarchy', key('Root', ['context:list']), 'context:list[ctx-1]', true],
    ['step 5: scope', key('Root', ['context:list[ctx-1]']), 'context:list', false],
    ['step 5: unparseable held strings are skipped', key('Root', ['bogus', 'blob']), 'blob:add:url', true],
    ['step 6: no exact-string fallback', key('Root', ['package:list-packages']), 'package:list-packages', false],
    ['step 6: context binding needs Context.All', key('Root', ['context:execute']), 'context[ctx-1,pk-1]', false],
  ])('%s', (_why, k, required, expected) => {
    expect(keyHasPermission(k, required)).toBe(expected);
  });
});
