import { describe, expect, it } from 'vitest';
import type { KeyRecord } from '../keys/key.js';
import { checkClientKeyParent, clientKeyPermissions, contextBinding, holdsLiteralAdmin } from './client-key.js';

function root(permissions: string[], extra: Partial<KeyRecord> = {}): KeyRecord {
  return {
    key_type: 'Root',
    public_key: 'pk',
    auth_method: 'user_password',
    root_key_id: null,
    name: null,
    permissions,
    created_at: 1,
    revoked_at: null,
    expires_at: null,
    ...extra,
  };
}

describe('holdsLiteralAdmin', () => {
  it('is a literal test', () => {
    expect(holdsLiteralAdmin(['keys', 'admin'])).toBe(true);
    expect(holdsLiteralAdmin(['admin:x', 'admin[y]', 'Admin'])).toBe(false);
  });
});

describe('contextBinding', () => {
  it('needs both values', () => {
    expect(contextBinding('ctx-1', 'pk-1')).toBe('context[ctx-1,pk-1]');
    expect(contextBinding('ctx-1', '')).toBeUndefined();
    expect(contextBinding('', 'pk-1')).toBeUndefined();
  });
});

describe('clientKeyPermissions (§9 minting, wire §5.7 step 6)', () => {
  it('keeps request order and drops duplicates', () => {
    expect(clientKeyPermissions(root(['admin']), '', '', ['context:list', 'blob', 'context:list'])).toEqual({
      ok: true,
      permissions: ['context:list', 'blob'],
    });
  });

  it('allows an empty list', () => {
    expect(clientKeyPermissions(root(['admin']), '', '', [])).toEqual({ ok: true, permissions: [] });
  });

  it('does not check the binding itself, only the requested entries', () => {
    expect(clientKeyPermissions(root(['context:execute']), 'c', 'p', ['context:execute'])).toEqual({
      ok: true,
      permissions: ['context[c,p]', 'context:execute'],
    });
  });

  it('escapes the refused permission for the message', () => {
    expect(clientKeyPermissions(root(['admin']), '', '', ['<b>&"\''])).toMatchObject({
      ok: false,
      message: 'Root key does not have permission: &lt;b&gt;&amp;&quot;&#x27;',
      permission: '<b>&"\'',
    });
  });

  it('refuses what the caller key cannot hand on', () => {
    expect(clientKeyPermissions(root(['context:list']), '', '', ['context:list[c]', 'context:create'])).toMatchObject({
      ok: false,
      message: 'Root key does not have permission: context:create',
    });
  });
});

describe('checkClientKeyParent (§9 persistence and refresh)', () => {
  const now = 1_000;
  it.each<[string, KeyRecord | undefined, string[], ReturnType<typeof checkClientKeyParent>]>([
    ['a valid admin parent', root(['admin']), ['context[c,p]', 'admin'], undefined],
    ['no parent', undefined, ['context:list'], { code: 'parent_missing' }],
    ['a revoked parent', root(['admin'], { revoked_at: 5 }), ['context:list'], { code: 'parent_invalid' }],
    ['an expired parent', root(['admin'], { expires_at: now }), ['context:list'], { code: 'parent_invalid' }],
    [
      'a parent that lacks a permission (message not escaped)',
      root(['context:list']),
      ['context:list', '<x>'],
      { code: 'parent_lacks_permission', message: 'Root key does not have permission: <x>', permission: '<x>' },
    ],
    [
      'the binding needs Context.All from a non-admin parent',
      root(['context:execute']),
      ['context[c,p]'],
      { code: 'parent_lacks_permission', message: 'Root key does not have permission: context[c,p]', permission: 'context[c,p]' },
    ],
  ])('%s', (_why, parent, permissions, expected) => {
    expect(checkClientKeyParent(parent, permissions, now)).toEqual(expected);
  });
});
