import { createHmac, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TokenClaims } from './claims.js';
import { pairClaims, signClaims, signPair, type PairSpec, type SigningKeySource } from './mint.js';
import { verifyToken } from './verify.js';

const SECRET = 'atl9_U2uxOWp_H8wmk9BuUAZqPchYXSmOpZBzofJyKI';
const HEADER_B64 = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const NOW = 1_700_000_000;

async function signingSource(secret = SECRET): Promise<SigningKeySource & { verifyKeys(): webcrypto.CryptoKey[] }> {
  const key = await webcrypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );
  return { signingKey: () => key, verifyKeys: () => [key] };
}

const decodeSegment = (s: string): string => Buffer.from(s, 'base64url').toString('utf8');
const segments = (token: string): [string, string, string] => {
  const parts = token.split('.');
  expect(parts).toHaveLength(3);
  return parts as [string, string, string];
};

const base: TokenClaims = {
  sub: 'f'.repeat(64),
  iss: 'calimero-auth',
  aud: 'calimero-auth',
  exp: NOW + 1800,
  iat: NOW,
  jti: '0b6f1e5e-5d0b-4a8e-9d67-3f0e2b7c9a11',
  token_type: 'access',
  permissions: ['admin', 'context:list'],
  sid: '5f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
};

const spec = (over: Partial<PairSpec> = {}): PairSpec => ({
  sub: 'f'.repeat(64),
  sid: '5f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
  permissions: ['admin'],
  issuer: 'calimero-auth',
  nowSeconds: NOW,
  accessExpiry: 1800,
  refreshExpiry: 2_592_000,
  ...over,
});

describe('signClaims', () => {
  it('the header segment is exactly {"typ":"JWT","alg":"HS256"}', async () => {
    const [h] = segments(await signClaims(base, await signingSource()));
    expect(h).toBe(HEADER_B64);
    expect(decodeSegment(h)).toBe('{"typ":"JWT","alg":"HS256"}');
  });

  it('serialises the claims in wire order, byte for byte, without node_url when absent', async () => {
    const [, p] = segments(await signClaims(base, await signingSource()));
    expect(decodeSegment(p)).toBe(
      '{"sub":"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff","iss":"calimero-auth",' +
        '"aud":"calimero-auth","exp":1700001800,"iat":1700000000,"jti":"0b6f1e5e-5d0b-4a8e-9d67-3f0e2b7c9a11",' +
        '"token_type":"access","permissions":["admin","context:list"],"sid":"5f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"}',
    );
  });

  it('puts node_url between permissions and sid', async () => {
    const [, p] = segments(await signClaims({ ...base, node_url: 'https://node1.example.com' }, await signingSource()));
    expect(decodeSegment(p)).toBe(
      '{"sub":"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff","iss":"calimero-auth",' +
        '"aud":"calimero-auth","exp":1700001800,"iat":1700000000,"jti":"0b6f1e5e-5d0b-4a8e-9d67-3f0e2b7c9a11",' +
        '"token_type":"access","permissions":["admin","context:list"],"node_url":"https://node1.example.com",' +
        '"sid":"5f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"}',
    );
  });

  it('the order does not depend on the order of the input object, and extra fields are dropped', async () => {
    const scrambled = {
      sid: base.sid,
      node_url: 'https://n.example',
      permissions: base.permissions,
      token_type: base.token_type,
      jti: base.jti,
      iat: base.iat,
      exp: base.exp,
      aud: base.aud,
      iss: base.iss,
      sub: base.sub,
      extra: 'never serialised',
    } as TokenClaims;
    const [, p] = segments(await signClaims(scrambled, await signingSource()));
    expect(Object.keys(JSON.parse(decodeSegment(p)) as object)).toEqual([
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'jti',
      'token_type',
      'permissions',
      'node_url',
      'sid',
    ]);
  });

  it('an explicitly undefined node_url is omitted, never null', async () => {
    const [, p] = segments(await signClaims({ ...base, node_url: undefined }, await signingSource()));
    expect(decodeSegment(p)).not.toContain('node_url');
  });

  it('the signature is HMAC-SHA256 over "header.payload" keyed with the UTF-8 of the secret text', async () => {
    const [h, p, s] = segments(await signClaims(base, await signingSource()));
    const expected = createHmac('sha256', Buffer.from(SECRET, 'utf8')).update(`${h}.${p}`).digest('base64url');
    expect(s).toBe(expected);
    // Not keyed with the 32 decoded bytes.
    const decodedKeyed = createHmac('sha256', Buffer.from(SECRET, 'base64url')).update(`${h}.${p}`).digest('base64url');
    expect(s).not.toBe(decodedKeyed);
  });

  it('signing is deterministic: the same claims and secret give the same token', async () => {
    const keys = await signingSource();
    expect(await signClaims(base, keys)).toBe(await signClaims({ ...base }, keys));
  });
});

describe('pairClaims', () => {
  it('builds two tokens with the same iat and their own exp, jti and token_type', () => {
    const { access, refresh } = pairClaims(spec());
    expect(access.iat).toBe(NOW);
    expect(refresh.iat).toBe(NOW);
    expect(access.exp).toBe(NOW + 1800);
    expect(refresh.exp).toBe(NOW + 2_592_000);
    expect(access.token_type).toBe('access');
    expect(refresh.token_type).toBe('refresh');
    expect(access.jti).toMatch(UUID_V4);
    expect(refresh.jti).toMatch(UUID_V4);
    expect(access.jti).not.toBe(refresh.jti);
  });

  it('the two claim sets differ only in exp, jti and token_type', () => {
    const { access, refresh } = pairClaims(spec({ nodeUrl: 'https://node1.example.com' }));
    const strip = ({ exp: _e, jti: _j, token_type: _t, ...rest }: TokenClaims) => rest;
    expect(strip(access)).toEqual(strip(refresh));
    expect(strip(access)).toEqual({
      sub: 'f'.repeat(64),
      iss: 'calimero-auth',
      aud: 'calimero-auth',
      iat: NOW,
      permissions: ['admin'],
      sid: '5f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
      node_url: 'https://node1.example.com',
    });
  });

  it('aud is the issuer', () => {
    const { access } = pairClaims(spec({ issuer: 'my-node' }));
    expect(access.iss).toBe('my-node');
    expect(access.aud).toBe('my-node');
  });

  it('node_url is absent (no key at all) when nodeUrl is not given', () => {
    const { access, refresh } = pairClaims(spec());
    expect('node_url' in access).toBe(false);
    expect('node_url' in refresh).toBe(false);
    const undef = pairClaims(spec({ nodeUrl: undefined }));
    expect('node_url' in undef.access).toBe(false);
  });

  it('jtis are fresh on every call', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const { access, refresh } = pairClaims(spec());
      seen.add(access.jti).add(refresh.jti);
    }
    expect(seen.size).toBe(100);
  });

  it('copies the permissions, so later changes to the source array do not leak into the claims', () => {
    const permissions = ['admin'];
    const { access, refresh } = pairClaims(spec({ permissions }));
    permissions.push('keys:create');
    expect(access.permissions).toEqual(['admin']);
    expect(refresh.permissions).toEqual(['admin']);
  });
});

describe('signPair', () => {
  it('signs both tokens; each verifies in its own slot only', async () => {
    const keys = await signingSource();
    const claims = pairClaims(spec({ nodeUrl: 'https://node1.example.com' }));
    const pair = await signPair(claims, keys);
    expect(Object.keys(pair)).toEqual(['access_token', 'refresh_token']);
    const opts = { issuer: 'calimero-auth', leewaySeconds: 60, nowSeconds: NOW };
    expect(await verifyToken(pair.access_token, 'access', keys, opts)).toEqual(claims.access);
    expect(await verifyToken(pair.refresh_token, 'refresh', keys, opts)).toEqual(claims.refresh);
    await expect(verifyToken(pair.refresh_token, 'access', keys, opts)).rejects.toThrow(
      'Invalid token: Wrong token type: expected Access, got Refresh',
    );
    await expect(verifyToken(pair.access_token, 'refresh', keys, opts)).rejects.toThrow(
      'Invalid token: Wrong token type: expected Refresh, got Access',
    );
  });
});
