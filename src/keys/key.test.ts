import { describe, expect, it } from 'vitest';
import { KEY_NOW, rootKeyRecord } from '../../test/helpers/keys.js';
import { isExpired, isRevoked, isValidKey, newRootKey, normaliseKey, type KeyRecord } from './key.js';

const NOW = KEY_NOW;

const root = rootKeyRecord;

describe('key validity (wire §6.2)', () => {
  it('a key without expires_at never expires', () => {
    expect(isExpired(root(), Number.MAX_SAFE_INTEGER)).toBe(false);
    const { expires_at: _drop, ...legacy } = root();
    expect(isExpired(legacy as KeyRecord, NOW)).toBe(false);
  });

  it('expired when now ≥ expires_at', () => {
    const key = root({ expires_at: NOW + 10 });
    expect(isExpired(key, NOW + 9)).toBe(false);
    expect(isExpired(key, NOW + 10)).toBe(true);
    expect(isExpired(key, NOW + 11)).toBe(true);
  });

  it('revoked when revoked_at is set, whatever its value', () => {
    expect(isRevoked(root())).toBe(false);
    expect(isRevoked(root({ revoked_at: 0 }))).toBe(true);
    expect(isRevoked(root({ revoked_at: NOW }))).toBe(true);
  });

  it('valid = neither revoked nor expired', () => {
    expect(isValidKey(root(), NOW)).toBe(true);
    expect(isValidKey(root({ revoked_at: NOW }), NOW)).toBe(false);
    expect(isValidKey(root({ expires_at: NOW }), NOW)).toBe(false);
    expect(isValidKey(root({ expires_at: NOW + 1 }), NOW)).toBe(true);
  });
});

describe('normaliseKey', () => {
  it('serialises in the documented field order, node_url omitted when absent', () => {
    expect(JSON.stringify(normaliseKey(root()))).toBe(
      '{"key_type":"Root","public_key":"admin","auth_method":"user_password","root_key_id":null,"name":null,' +
        `"permissions":["admin"],"created_at":${NOW},"revoked_at":null,"expires_at":null}`,
    );
  });

  it('puts node_url after permissions', () => {
    expect(JSON.stringify(normaliseKey(root({ node_url: 'https://n.example' })))).toBe(
      '{"key_type":"Root","public_key":"admin","auth_method":"user_password","root_key_id":null,"name":null,' +
        `"permissions":["admin"],"node_url":"https://n.example","created_at":${NOW},"revoked_at":null,"expires_at":null}`,
    );
  });

  it('fills missing nullable fields with null and drops unknown fields', () => {
    const raw = { key_type: 'Client', permissions: ['context:list'], created_at: NOW, extra: 1 } as unknown as KeyRecord;
    expect(normaliseKey(raw)).toEqual({
      key_type: 'Client',
      public_key: null,
      auth_method: null,
      root_key_id: null,
      name: null,
      permissions: ['context:list'],
      created_at: NOW,
      revoked_at: null,
      expires_at: null,
    });
  });
});

describe('newRootKey', () => {
  it('builds a valid root key holding the given permissions', () => {
    const key = newRootKey({ publicKey: 'alice', authMethod: 'user_password', permissions: ['admin'], now: NOW });
    expect(key).toEqual(root({ public_key: 'alice' }));
    expect('node_url' in key).toBe(false);
  });

  it('keeps node_url when given, drops a null one', () => {
    expect(newRootKey({ publicKey: 'a', authMethod: 'm', permissions: [], nodeUrl: 'https://n', now: NOW }).node_url).toBe(
      'https://n',
    );
    expect('node_url' in newRootKey({ publicKey: 'a', authMethod: 'm', permissions: [], nodeUrl: null, now: NOW })).toBe(false);
  });
});
