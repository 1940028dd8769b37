import { createHmac, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TokenClaims, TokenType } from './claims.js';
import { TokenError } from './token-error.js';
import { autoBudgetBytes, BoundedSignatureCache } from './signature-cache.js';
import {
  verifyToken,
  type SignatureCache,
  type SignatureCacheEntry,
  type VerifyKeySource,
  type VerifyOptions,
} from './verify.js';

// 43-character base64url texts of 32 random bytes: the HMAC key is their UTF-8 (wire §4.1).
const SECRET_A = 'atl9_U2uxOWp_H8wmk9BuUAZqPchYXSmOpZBzofJyKI';
const SECRET_B = 'Wjl_xVRCqcRzpmO0IaMsueLKiUNh5AEPQoJ5SlqC3Kg';
const SECRET_C = 'UMg67op_WA7GEOrvVydSZajSRTg4YFU8sWOMzz5ibFM';

const ISSUER = 'calimero-auth';
const NOW = 1_700_000_000;
const OUR_HEADER = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9';

const importHmac = (secret: string): Promise<webcrypto.CryptoKey> =>
  webcrypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);

async function keySet(...secrets: string[]): Promise<VerifyKeySource> {
  const keys = await Promise.all(secrets.map(importHmac));
  return { verifyKeys: () => keys };
}

const b64 = (s: string | Uint8Array): string => Buffer.from(s).toString('base64url');
const hmac = (secret: string, input: string): string =>
  createHmac('sha256', Buffer.from(secret, 'utf8')).update(input).digest('base64url');

/** Signs arbitrary header and payload segments by hand (no jose), so anything can be forged. */
function forgeSegments(headerSeg: string, payloadSeg: string, secret = SECRET_A): string {
  return `${headerSeg}.${payloadSeg}.${hmac(secret, `${headerSeg}.${payloadSeg}`)}`;
}

function forge(payload: unknown, opts: { header?: unknown; secret?: string } = {}): string {
  const headerSeg = opts.header === undefined ? OUR_HEADER : b64(JSON.stringify(opts.header));
  return forgeSegments(headerSeg, b64(JSON.stringify(payload)), opts.secret);
}

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: 'a'.repeat(64),
    iss: ISSUER,
    aud: ISSUER,
    exp: NOW + 1800,
    iat: NOW,
    jti: '0b6f1e5e-5d0b-4a8e-9d67-3f0e2b7c9a11',
    token_type: 'access',
    permissions: ['admin'],
    sid: '5f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
    ...over,
  };
}

function without(name: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const c = claims(over);
  delete c[name];
  return c;
}

const opts = (over: Partial<VerifyOptions> = {}): VerifyOptions => ({
  issuer: ISSUER,
  leewaySeconds: 60,
  nowSeconds: NOW,
  ...over,
});

async function verifyWith(
  token: string,
  over: Partial<VerifyOptions> = {},
  type: TokenType = 'access',
  keys?: VerifyKeySource,
): Promise<TokenClaims> {
  return verifyToken(token, type, keys ?? (await keySet(SECRET_A)), opts(over));
}

/** The TokenError a verification fails with. */
async function failure(p: Promise<unknown>): Promise<TokenError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TokenError) return e;
    throw e;
  }
  throw new Error('verification unexpectedly succeeded');
}

async function expectInvalid(p: Promise<unknown>, detail: string): Promise<void> {
  const e = await failure(p);
  expect({ kind: e.kind, detail: e.detail, message: e.message }).toEqual({
    kind: 'invalid',
    detail,
    message: `Invalid token: ${detail}`,
  });
}

async function expectExpired(p: Promise<unknown>): Promise<void> {
  const e = await failure(p);
  expect({ kind: e.kind, detail: e.detail, message: e.message, name: e.name }).toEqual({
    kind: 'expired',
    detail: 'Token has expired',
    message: 'Token has expired',
    name: 'TokenError',
  });
}

/** V8's own JSON.parse message for this text: the `JSON error: <…>` detail carries it verbatim. */
function jsonMessage(text: string): string {
  try {
    JSON.parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${text} parses`);
}

describe('verifyToken — the happy path', () => {
  it('returns the claims of a well-formed access token, in wire order', async () => {
    const out = await verifyWith(forge(claims()));
    expect(out).toEqual(claims());
    expect(Object.keys(out)).toEqual(['sub', 'iss', 'aud', 'exp', 'iat', 'jti', 'token_type', 'permissions', 'sid']);
  });

  it('returns node_url when present', async () => {
    const out = await verifyWith(forge(claims({ node_url: 'https://node1.example.com' })));
    expect(out.node_url).toBe('https://node1.example.com');
  });

  it('accepts a refresh token in the refresh slot', async () => {
    const out = await verifyWith(forge(claims({ token_type: 'refresh' })), {}, 'refresh');
    expect(out.token_type).toBe('refresh');
  });
});

describe('verifyToken — step 1, structure', () => {
  const cases: Array<[string, string]> = [
    ['the empty string', ''],
    ['one part', OUR_HEADER],
    ['two parts', `${OUR_HEADER}.e30`],
    ['four parts', `${OUR_HEADER}.e30.c2ln.c2ln`],
    ['an empty header segment', '.e30.c2ln'],
    ['an empty payload segment', `${OUR_HEADER}..c2ln`],
    ['only dots', '..'],
  ];
  it.each(cases)('%s → Malformed token: InvalidToken', async (_label, token) => {
    await expectInvalid(verifyWith(token), 'Malformed token: InvalidToken');
  });

  it('an empty signature segment is well-formed and fails the signature step', async () => {
    await expectInvalid(verifyWith(`${OUR_HEADER}.e30.`), 'InvalidSignature');
  });

  it('alg none with an empty signature segment → InvalidAlgorithm (step 2 before step 3)', async () => {
    const none = Buffer.from('{"alg":"none"}').toString('base64url');
    await expectInvalid(verifyWith(`${none}.e30.`), 'InvalidAlgorithm');
  });

  it('a real token with one part dropped or one added is malformed', async () => {
    const [h, p, s] = forge(claims()).split('.') as [string, string, string];
    await expectInvalid(verifyWith(`${h}.${p}`), 'Malformed token: InvalidToken');
    await expectInvalid(verifyWith(`${h}.${p}.${s}.${s}`), 'Malformed token: InvalidToken');
  });

  it('a header with a non-base64url symbol → Base64 error', async () => {
    await expectInvalid(verifyWith(forgeSegments('eyJ!bGciOiJIUzI1NiJ9', b64('{}'))), 'Base64 error: Invalid symbol or length');
    // Standard-alphabet symbols and padding are not base64url.
    await expectInvalid(verifyWith(forgeSegments('ab+/', b64('{}'))), 'Base64 error: Invalid symbol or length');
    await expectInvalid(verifyWith(forgeSegments('e30=', b64('{}'))), 'Base64 error: Invalid symbol or length');
  });

  it('a header of impossible base64 length (4n+1) → Base64 error', async () => {
    await expectInvalid(verifyWith(forgeSegments('abcde', b64('{}'))), 'Base64 error: Invalid symbol or length');
  });

  it('a header that is not JSON → JSON error with the parser message', async () => {
    await expectInvalid(verifyWith(forgeSegments(b64('not json'), b64('{}'))), `JSON error: ${jsonMessage('not json')}`);
    await expectInvalid(
      verifyWith(forgeSegments(b64('{"alg":"HS256"'), b64('{}'))),
      `JSON error: ${jsonMessage('{"alg":"HS256"')}`,
    );
  });

  it('a header that is not UTF-8 → JSON error: invalid UTF-8', async () => {
    await expectInvalid(verifyWith(forgeSegments(b64(new Uint8Array([0xff, 0xfe])), b64('{}'))), 'JSON error: invalid UTF-8');
  });

  it('a header that is JSON but not an object → JSON error', async () => {
    for (const h of ['["HS256"]', '"HS256"', '42', 'null']) {
      await expectInvalid(verifyWith(forgeSegments(b64(h), b64('{}'))), 'JSON error: header is not an object');
    }
  });
});

describe('verifyToken — step 2, algorithm', () => {
  it.each(['none', 'HS512', 'RS256', 'HS384', 'ES256', 'hs256'])('alg %s → InvalidAlgorithm', async (alg) => {
    // Correctly HMAC'd with the real secret: only the header decides.
    await expectInvalid(verifyWith(forge(claims(), { header: { typ: 'JWT', alg } })), 'InvalidAlgorithm');
  });

  it('alg none with a junk signature → InvalidAlgorithm', async () => {
    const token = `${b64('{"alg":"none"}')}.${b64(JSON.stringify(claims()))}.x`;
    await expectInvalid(verifyWith(token), 'InvalidAlgorithm');
  });

  it('no alg at all → InvalidAlgorithm', async () => {
    await expectInvalid(verifyWith(forge(claims(), { header: { typ: 'JWT' } })), 'InvalidAlgorithm');
  });

  it('the algorithm is checked before the signature and the key set', async () => {
    const token = forge(claims(), { header: { alg: 'HS512' }, secret: SECRET_C });
    await expectInvalid(verifyWith(token, {}, 'access', await keySet()), 'InvalidAlgorithm');
  });

  it('typ and kid are ignored', async () => {
    for (const header of [{ alg: 'HS256' }, { alg: 'HS256', typ: 'JOSE', kid: 'k1' }, { kid: 'x', alg: 'HS256', typ: 'JWT' }]) {
      expect(await verifyWith(forge(claims(), { header }))).toEqual(claims());
    }
  });
});

describe('verifyToken — step 3, signature', () => {
  it('a token signed with another secret → InvalidSignature', async () => {
    await expectInvalid(verifyWith(forge(claims(), { secret: SECRET_C })), 'InvalidSignature');
  });

  it('a tampered payload → InvalidSignature', async () => {
    const [h, , s] = forge(claims()).split('.') as [string, string, string];
    const tampered = b64(JSON.stringify(claims({ permissions: ['admin', 'keys:create'] })));
    await expectInvalid(verifyWith(`${h}.${tampered}.${s}`), 'InvalidSignature');
  });

  it('the HMAC key is the UTF-8 of the text, not the decoded 32 bytes', async () => {
    const decodedKey = Buffer.from(SECRET_A, 'base64url');
    const hp = `${OUR_HEADER}.${b64(JSON.stringify(claims()))}`;
    const sig = createHmac('sha256', decodedKey).update(hp).digest('base64url');
    await expectInvalid(verifyWith(`${hp}.${sig}`), 'InvalidSignature');
  });

  it('the signature is checked before the payload: a bad payload under a wrong signature is InvalidSignature', async () => {
    await expectInvalid(verifyWith(forgeSegments(OUR_HEADER, b64('not json'), SECRET_C)), 'InvalidSignature');
    await expectInvalid(verifyWith(forgeSegments(OUR_HEADER, b64(JSON.stringify(without('exp'))), SECRET_C)), 'InvalidSignature');
  });

  it('an empty key set → No verification secret available', async () => {
    await expectInvalid(verifyWith(forge(claims()), {}, 'access', await keySet()), 'No verification secret available');
  });

  it('the backup (second key of the set) verifies a token the primary did not sign', async () => {
    const token = forge(claims(), { secret: SECRET_B });
    expect(await verifyWith(token, {}, 'access', await keySet(SECRET_A, SECRET_B))).toEqual(claims());
    // …and the primary still verifies its own tokens.
    expect(await verifyWith(forge(claims()), {}, 'access', await keySet(SECRET_A, SECRET_B))).toEqual(claims());
  });

  describe('Security: only the canonical base64url spelling of a signature verifies (issue 10 item 6)', () => {
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const token = forge(claims());
    const sig = token.split('.')[2] as string;
    // 32 bytes are 43 characters: the last one carries 2 bits of the HMAC and 4 unused bits.
    const last = ALPHABET.indexOf(sig.at(-1) as string);
    const sameBytes = `${token.slice(0, -1)}${ALPHABET[last + 1]}`;

    it.each([
      ['a trailing =', `${token}=`],
      ['a trailing ==', `${token}==`],
      ['a last character that differs only in its unused bits', sameBytes],
    ])('%s → InvalidSignature', async (_name, variant) => {
      expect(Buffer.from(variant.split('.')[2] as string, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
      await expectInvalid(verifyWith(variant), 'InvalidSignature');
    });

    it('the canonical spelling still verifies', async () => {
      expect(await verifyWith(token)).toEqual(claims());
    });
  });

  it('a secret outside the set fails even with a backup present', async () => {
    await expectInvalid(
      verifyWith(forge(claims(), { secret: SECRET_C }), {}, 'access', await keySet(SECRET_A, SECRET_B)),
      'InvalidSignature',
    );
  });
});

describe('verifyToken — step 4, payload and exp', () => {
  it('a validly signed payload that is not base64url → Base64 error (after the signature)', async () => {
    await expectInvalid(verifyWith(forgeSegments(OUR_HEADER, 'e30!')), 'Base64 error: Invalid symbol or length');
    await expectInvalid(verifyWith(forgeSegments(OUR_HEADER, 'abcde')), 'Base64 error: Invalid symbol or length');
    // Padding is not base64url either.
    await expectInvalid(verifyWith(forgeSegments(OUR_HEADER, 'e30=')), 'Base64 error: Invalid symbol or length');
  });

  it('a validly signed payload that is not JSON → JSON error with the parser message', async () => {
    await expectInvalid(verifyWith(forgeSegments(OUR_HEADER, b64('{"exp":'))), `JSON error: ${jsonMessage('{"exp":')}`);
  });

  it('a validly signed payload that is not UTF-8 → JSON error: invalid UTF-8', async () => {
    await expectInvalid(verifyWith(forgeSegments(OUR_HEADER, b64(new Uint8Array([0xc3, 0x28])))), 'JSON error: invalid UTF-8');
  });

  it('a payload that is JSON but not an object → JSON error naming the type', async () => {
    const cases: Array<[string, string]> = [
      ['[]', 'JSON error: invalid type: sequence, expected struct Claims'],
      ['42', 'JSON error: invalid type: integer `42`, expected struct Claims'],
      ['"x"', 'JSON error: invalid type: string "x", expected struct Claims'],
      ['null', 'JSON error: invalid type: null, expected struct Claims'],
      ['true', 'JSON error: invalid type: boolean `true`, expected struct Claims'],
    ];
    for (const [payload, detail] of cases) {
      await expectInvalid(verifyWith(forgeSegments(OUR_HEADER, b64(payload))), detail);
    }
  });

  it('no exp → Missing required claim: exp', async () => {
    await expectInvalid(verifyWith(forge(without('exp'))), 'Missing required claim: exp');
    await expectInvalid(verifyWith(forge({})), 'Missing required claim: exp');
  });

  it('exp is checked before issuer, audience, shape and type', async () => {
    const bad = without('exp', { iss: 'other', aud: 'other', sid: 1, token_type: 'refresh' });
    await expectInvalid(verifyWith(forge(bad)), 'Missing required claim: exp');
  });

  it('exp present but not a non-negative integer → JSON error', async () => {
    const cases: Array<[unknown, string]> = [
      ['1700000000', 'JSON error: invalid type: string "1700000000", expected u64'],
      [1.5, 'JSON error: invalid type: floating point `1.5`, expected u64'],
      [-1, 'JSON error: invalid type: integer `-1`, expected u64'],
      [null, 'JSON error: invalid type: null, expected u64'],
      [[NOW], 'JSON error: invalid type: sequence, expected u64'],
      [{}, 'JSON error: invalid type: map, expected u64'],
      [true, 'JSON error: invalid type: boolean `true`, expected u64'],
    ];
    for (const [exp, detail] of cases) {
      await expectInvalid(verifyWith(forge(claims({ exp }))), detail);
    }
  });

  it('ignoreExpiry still requires exp', async () => {
    await expectInvalid(verifyWith(forge(without('exp')), { ignoreExpiry: true }), 'Missing required claim: exp');
    await expectInvalid(
      verifyWith(forge(claims({ exp: 'soon' })), { ignoreExpiry: true }),
      'JSON error: invalid type: string "soon", expected u64',
    );
  });
});

describe('verifyToken — step 5, expiry', () => {
  const EXP = NOW;

  it('L = 60: accepted up to and including now = exp + L, expired from exp + L + 1', async () => {
    const token = forge(claims({ exp: EXP }));
    expect((await verifyWith(token, { nowSeconds: EXP - 1000 })).exp).toBe(EXP);
    expect((await verifyWith(token, { nowSeconds: EXP })).exp).toBe(EXP);
    expect((await verifyWith(token, { nowSeconds: EXP + 60 })).exp).toBe(EXP);
    await expectExpired(verifyWith(token, { nowSeconds: EXP + 61 }));
    await expectExpired(verifyWith(token, { nowSeconds: EXP + 100_000 }));
  });

  it('L = 0: accepted at now = exp, expired at exp + 1', async () => {
    const token = forge(claims({ exp: EXP }));
    expect((await verifyWith(token, { nowSeconds: EXP, leewaySeconds: 0 })).exp).toBe(EXP);
    await expectExpired(verifyWith(token, { nowSeconds: EXP + 1, leewaySeconds: 0 }));
  });

  it('exp = 0 is a valid (long expired) integer', async () => {
    await expectExpired(verifyWith(forge(claims({ exp: 0 }))));
  });

  it('iat is never compared with the clock, nor nbf', async () => {
    const future = claims({ iat: NOW + 10_000, nbf: NOW + 10_000, exp: NOW + 20_000 });
    expect((await verifyWith(forge(future))).iat).toBe(NOW + 10_000);
  });

  it('expiry comes before issuer and audience', async () => {
    await expectExpired(verifyWith(forge(claims({ exp: EXP, iss: 'other', aud: 'other' })), { nowSeconds: EXP + 61 }));
  });

  it('an expired refresh token presented as access reports expired, not the wrong type', async () => {
    const refresh = forge(claims({ exp: EXP, token_type: 'refresh' }));
    await expectExpired(verifyWith(refresh, { nowSeconds: EXP + 61 }, 'access'));
    // …and an expired token missing sid also reports expired (shape is step 8).
    await expectExpired(verifyWith(forge(without('sid', { exp: EXP })), { nowSeconds: EXP + 61 }));
  });

  it('ignoreExpiry (entry point 3) accepts an expired token and still runs the other steps', async () => {
    const token = forge(claims({ exp: EXP }));
    expect((await verifyWith(token, { nowSeconds: EXP + 100_000, ignoreExpiry: true })).exp).toBe(EXP);
    await expectInvalid(
      verifyWith(forge(claims({ exp: EXP, iss: 'other' })), { nowSeconds: EXP + 100_000, ignoreExpiry: true }),
      'InvalidIssuer',
    );
    await expectInvalid(
      verifyWith(forge(claims({ exp: EXP, token_type: 'refresh' })), { nowSeconds: EXP + 100_000, ignoreExpiry: true }),
      'Wrong token type: expected Access, got Refresh',
    );
    await expectInvalid(
      verifyWith(forge(claims({ exp: EXP }), { secret: SECRET_C }), { nowSeconds: EXP + 100_000, ignoreExpiry: true }),
      'InvalidSignature',
    );
  });
});

describe('verifyToken — steps 6 and 7, issuer and audience', () => {
  it('a different iss → InvalidIssuer', async () => {
    await expectInvalid(verifyWith(forge(claims({ iss: 'someone-else' }))), 'InvalidIssuer');
    await expectInvalid(verifyWith(forge(claims({ iss: 'Calimero-Auth' }))), 'InvalidIssuer');
  });

  it('a non-string iss → InvalidIssuer', async () => {
    await expectInvalid(verifyWith(forge(claims({ iss: 5 }))), 'InvalidIssuer');
  });

  it('the issuer is checked before the audience', async () => {
    await expectInvalid(verifyWith(forge(claims({ iss: 'x', aud: 'y' }))), 'InvalidIssuer');
  });

  it('a different aud → InvalidAudience', async () => {
    await expectInvalid(verifyWith(forge(claims({ aud: 'someone-else' }))), 'InvalidAudience');
  });

  it('an array aud fails, even one holding only the issuer', async () => {
    await expectInvalid(verifyWith(forge(claims({ aud: [ISSUER] }))), 'InvalidAudience');
    await expectInvalid(verifyWith(forge(claims({ aud: [ISSUER, 'other'] }))), 'InvalidAudience');
  });

  it('the issuer option decides', async () => {
    const token = forge(claims({ iss: 'my-node', aud: 'my-node' }));
    expect((await verifyWith(token, { issuer: 'my-node' })).iss).toBe('my-node');
    await expectInvalid(verifyWith(token), 'InvalidIssuer');
  });

  it('issuer and audience come before the claim shape and the type', async () => {
    await expectInvalid(verifyWith(forge(without('sid', { iss: 'x', token_type: 'refresh' }))), 'InvalidIssuer');
    await expectInvalid(verifyWith(forge(without('sid', { aud: 'x', token_type: 'refresh' }))), 'InvalidAudience');
  });
});

describe('verifyToken — step 8, claim shape', () => {
  it.each(['sub', 'iss', 'aud', 'iat', 'jti', 'token_type', 'permissions', 'sid'])(
    'a token without %s is rejected',
    async (name) => {
      await expectInvalid(verifyWith(forge(without(name))), `JSON error: missing field \`${name}\``);
    },
  );

  it('ill-typed string claims', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ sub: 5 }, 'JSON error: invalid type: integer `5`, expected a string'],
      [{ jti: null }, 'JSON error: invalid type: null, expected a string'],
      [{ sid: ['x'] }, 'JSON error: invalid type: sequence, expected a string'],
      [{ sid: { id: 'x' } }, 'JSON error: invalid type: map, expected a string'],
      [{ token_type: true }, 'JSON error: invalid type: boolean `true`, expected a string'],
      [{ node_url: 7 }, 'JSON error: invalid type: integer `7`, expected a string'],
    ];
    for (const [over, detail] of cases) {
      await expectInvalid(verifyWith(forge(claims(over))), detail);
    }
  });

  it('iat must be a non-negative integer', async () => {
    await expectInvalid(verifyWith(forge(claims({ iat: '1' }))), 'JSON error: invalid type: string "1", expected u64');
    await expectInvalid(
      verifyWith(forge(claims({ iat: 1.25 }))),
      'JSON error: invalid type: floating point `1.25`, expected u64',
    );
    await expectInvalid(verifyWith(forge(claims({ iat: -5 }))), 'JSON error: invalid type: integer `-5`, expected u64');
  });

  it('permissions must be an array of strings', async () => {
    await expectInvalid(
      verifyWith(forge(claims({ permissions: 'admin' }))),
      'JSON error: invalid type: string "admin", expected a sequence',
    );
    await expectInvalid(
      verifyWith(forge(claims({ permissions: ['admin', 1] }))),
      'JSON error: invalid type: integer `1`, expected a string',
    );
    expect((await verifyWith(forge(claims({ permissions: [] })))).permissions).toEqual([]);
  });

  it('token_type must be one of the two values', async () => {
    for (const t of ['Access', 'ACCESS', 'id', '']) {
      await expectInvalid(
        verifyWith(forge(claims({ token_type: t }))),
        `JSON error: unknown variant \`${t}\`, expected \`access\` or \`refresh\``,
      );
    }
  });

  it('node_url null counts as absent', async () => {
    const out = await verifyWith(forge(claims({ node_url: null })));
    expect(out).toEqual(claims());
    expect('node_url' in out).toBe(false);
  });

  it('extra claims are ignored and not returned', async () => {
    const out = await verifyWith(forge(claims({ nbf: NOW + 99, scope: 'x', key_id: 'k', client_id: 'c', custom: { a: 1 } })));
    expect(out).toEqual(claims());
  });
});

describe('verifyToken — step 9, type', () => {
  it('a refresh token in the access slot → Wrong token type: expected Access, got Refresh', async () => {
    await expectInvalid(
      verifyWith(forge(claims({ token_type: 'refresh' })), {}, 'access'),
      'Wrong token type: expected Access, got Refresh',
    );
  });

  it('an access token in the refresh slot → Wrong token type: expected Refresh, got Access', async () => {
    await expectInvalid(verifyWith(forge(claims()), {}, 'refresh'), 'Wrong token type: expected Refresh, got Access');
  });

  it('shape comes before type: a refresh token without sid in the access slot is a shape error', async () => {
    await expectInvalid(verifyWith(forge(without('sid', { token_type: 'refresh' }))), 'JSON error: missing field `sid`');
  });
});

describe('verifyToken — the verified-signature cache', () => {
  function fakeCache() {
    const entries = new Map<string, SignatureCacheEntry>();
    const sets: string[] = [];
    const cache: SignatureCache = {
      get: (token) => entries.get(token),
      set: (token, key, payload) => {
        sets.push(token);
        const entry: SignatureCacheEntry = { key, payload };
        entries.set(token, entry);
        return entry;
      },
    };
    return { cache, entries, sets };
  }

  it('a verified token is remembered with the key that verified it and its payload', async () => {
    const { cache, entries, sets } = fakeCache();
    const keys = await keySet(SECRET_A, SECRET_B);
    const token = forge(claims(), { secret: SECRET_B });
    expect(await verifyWith(token, { cache }, 'access', keys)).toEqual(claims());
    expect(sets).toEqual([token]);
    expect(entries.get(token)?.key).toBe(keys.verifyKeys()[1]);
    expect(entries.get(token)?.payload).toEqual(claims());
    // A second use is a hit: nothing new is stored.
    expect(await verifyWith(token, { cache }, 'access', keys)).toEqual(claims());
    expect(sets).toEqual([token]);
  });

  it('a hit skips steps 1–3 only: expiry, issuer, audience, shape and type still run', async () => {
    const { cache } = fakeCache();
    const keys = await keySet(SECRET_A);
    const token = forge(claims({ exp: NOW }));
    await verifyWith(token, { cache }, 'access', keys);
    await expectExpired(verifyWith(token, { cache, nowSeconds: NOW + 61 }, 'access', keys));
    expect((await verifyWith(token, { cache, nowSeconds: NOW + 61, ignoreExpiry: true }, 'access', keys)).exp).toBe(NOW);
    await expectInvalid(verifyWith(token, { cache, issuer: 'other' }, 'access', keys), 'InvalidIssuer');
    await expectInvalid(verifyWith(token, { cache }, 'refresh', keys), 'Wrong token type: expected Refresh, got Access');
  });

  it('a hit whose key has left the verify set is verified again, and fails', async () => {
    const { cache } = fakeCache();
    const token = forge(claims(), { secret: SECRET_B });
    await verifyWith(token, { cache }, 'access', await keySet(SECRET_A, SECRET_B));
    // After a second rotation the set no longer holds B's key object.
    await expectInvalid(verifyWith(token, { cache }, 'access', await keySet(SECRET_C, SECRET_A)), 'InvalidSignature');
    await expectInvalid(verifyWith(token, { cache }, 'access', await keySet()), 'No verification secret available');
  });

  it('only genuinely signed tokens with an object payload get in', async () => {
    const { cache, sets } = fakeCache();
    const keys = await keySet(SECRET_A);
    await failure(verifyWith(forge(claims(), { secret: SECRET_C }), { cache }, 'access', keys));
    await failure(verifyWith(forgeSegments(OUR_HEADER, b64('[]')), { cache }, 'access', keys));
    await failure(verifyWith(forgeSegments(OUR_HEADER, b64('{"exp":')), { cache }, 'access', keys));
    await failure(verifyWith(forgeSegments(OUR_HEADER, 'e30!'), { cache }, 'access', keys));
    await failure(verifyWith(forge(claims(), { header: { alg: 'HS512' } }), { cache }, 'access', keys));
    await failure(verifyWith('a.b', { cache }, 'access', keys));
    expect(sets).toEqual([]);
  });

  it('a token that fails later steps is still remembered (its signature is genuine) and fails again on a hit', async () => {
    const { cache, sets } = fakeCache();
    const keys = await keySet(SECRET_A);
    const token = forge(without('sid'));
    await expectInvalid(verifyWith(token, { cache }, 'access', keys), 'JSON error: missing field `sid`');
    expect(sets).toEqual([token]);
    await expectInvalid(verifyWith(token, { cache }, 'access', keys), 'JSON error: missing field `sid`');
  });

  it('cached claims are immutable: no caller can alter what later verifications see', async () => {
    const cache = new BoundedSignatureCache();
    const keys = await keySet(SECRET_A);
    const token = forge(claims());
    const first = await verifyWith(token, { cache }, 'access', keys);
    expect(() => first.permissions.push('keys:create')).toThrow(TypeError);
    const second = await verifyWith(token, { cache }, 'access', keys);
    expect(second.permissions).toEqual(['admin']);
  });

  it('a hit with checked claims still applies the expiry line and the expected type', async () => {
    const cache = new BoundedSignatureCache();
    const keys = await keySet(SECRET_A);
    const token = forge(claims({ exp: NOW }));
    expect((await verifyWith(token, { cache }, 'access', keys)).exp).toBe(NOW);
    expect(cache.get(token)?.checked?.claims.exp).toBe(NOW);
    expect((await verifyWith(token, { cache, nowSeconds: NOW + 60 }, 'access', keys)).exp).toBe(NOW);
    await expectExpired(verifyWith(token, { cache, nowSeconds: NOW + 61 }, 'access', keys));
    await expectInvalid(verifyWith(token, { cache }, 'refresh', keys), 'Wrong token type: expected Refresh, got Access');
    await expectInvalid(verifyWith(token, { cache, issuer: 'other' }, 'access', keys), 'InvalidIssuer');
  });
});

describe('BoundedSignatureCache', () => {
  it('evicts the least recently used entry beyond its byte budget and freezes payloads', async () => {
    const [key] = (await keySet(SECRET_A)).verifyKeys();
    if (!key) throw new Error('no key');
    // Each short entry counts 2 × 2 characters + 1024 bytes: a 2100-byte budget holds two.
    const cache = new BoundedSignatureCache(2100);
    cache.set('t1', key, { a: 1 });
    cache.set('t2', key, { a: 2 });
    expect(cache.get('t1')?.payload).toEqual({ a: 1 }); // t1 is now the most recently used
    cache.set('t3', key, { a: 3 });
    expect(cache.size).toBe(2);
    expect(cache.bytes).toBe(2 * 1028);
    expect(cache.get('t2')).toBeUndefined();
    expect(cache.get('t1')?.payload).toEqual({ a: 1 });
    expect(Object.isFrozen(cache.get('t3')?.payload)).toBe(true);
  });

  it('the automatic budget is 1 % of the heap limit, between 4 and 8 MB', () => {
    const MB = 1024 * 1024;
    expect(autoBudgetBytes(4096 * MB)).toBe(8 * MB);
    expect(autoBudgetBytes(600 * MB)).toBe(Math.floor(600 * MB * 0.01));
    expect(autoBudgetBytes(64 * MB)).toBe(4 * MB);
  });

  it('Security: a token that shares only the signature of a cached one misses', async () => {
    const [key] = (await keySet(SECRET_A)).verifyKeys();
    if (!key) throw new Error('no key');
    const cache = new BoundedSignatureCache();
    cache.set('h.p.sig', key, { a: 1 });
    expect(cache.get('h.p.sig')?.payload).toEqual({ a: 1 });
    expect(cache.get('h.q.sig')).toBeUndefined();
    expect(cache.get('sig')).toBeUndefined();
    expect(cache.get('x.h.p.sig')).toBeUndefined();
  });
});
