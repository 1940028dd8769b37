/**
 * Asymmetric signing and the JWK Set (issue 12 item 1): `jwt.algorithm = "EdDSA" | "ES256"`,
 * `GET /auth/jwks.json`, `kid` in every token, rotation with overlap, algorithm confusion.
 */
import { createHmac, createPublicKey, verify as cryptoVerify, generateKeyPairSync } from 'node:crypto';
import { CompactSign, calculateJwkThumbprint, compactVerify, createLocalJWKSet, exportJWK, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/storage/memory.js';
import { flipS, isHighS, withLowS } from '../../src/tokens/ecdsa-low-s.js';
import { verifySync } from '../../src/tokens/verify.js';
import { nowSeconds } from '../../src/util/clock.js';
import {
  adminKeyId,
  b64url,
  bearer,
  claimsFor,
  decodeJwt,
  expectErr,
  expectPair,
  forgeSigned,
  mintPair,
} from '../helpers/http.js';
import { testServices, type TestService } from '../helpers/service.js';

const service = testServices();
const ALGORITHMS = ['EdDSA', 'ES256'] as const;
type Alg = (typeof ALGORITHMS)[number];
const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']);

interface Jwks {
  keys: Array<Record<string, string>>;
}

async function jwksOf(t: TestService): Promise<Jwks> {
  const res = await t.request('/auth/jwks.json');
  expect(res.status).toBe(200);
  return (await res.json()) as Jwks;
}

/** Every member name anywhere in a JSON value, however deep. */
function memberNames(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) memberNames(v, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      memberNames(v, out);
    }
  }
  return out;
}

const validate = (t: TestService, token: string) => t.request('/auth/validate', { headers: bearer(token) });

async function expectInvalid(res: Response, detail: string): Promise<void> {
  await expectErr(res, 401, `Invalid token: Invalid token: ${detail}`, 'invalid_token');
}

/** A foreign keypair of an algorithm (node:crypto KeyObjects). */
const keyPair = (a: Alg) => (a === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' }));

/** An HS256 JWS over `payload` with `secret` as the HMAC key, any header. */
function hmacToken(header: Record<string, unknown>, payload: unknown, secret: Uint8Array | string): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

describe('GET /auth/jwks.json', () => {
  it('under HS256 (the default) answers 404 in the error envelope: a shared secret is never published', async () => {
    const t = await service();
    await expectErr(await t.request('/auth/jwks.json'), 404, 'No public keys: jwt.algorithm is HS256 (a shared secret)');
  });

  it.each(ALGORITHMS)('%s: one public key with kty, crv, x(, y), kid, alg, use:"sig", cacheable', async (alg) => {
    const t = await service({ jwt: { algorithm: alg } });
    const res = await t.request('/auth/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const body = (await res.json()) as Jwks;
    expect(body.keys).toHaveLength(1);
    const [key] = body.keys as [Record<string, string>];
    expect(Object.keys(key).sort()).toEqual(
      alg === 'EdDSA' ? ['alg', 'crv', 'kid', 'kty', 'use', 'x'] : ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'],
    );
    expect(key).toMatchObject(
      alg === 'EdDSA' ? { kty: 'OKP', crv: 'Ed25519', alg, use: 'sig' } : { kty: 'EC', crv: 'P-256', alg, use: 'sig' },
    );
    // kid = RFC 7638 thumbprint of the public key.
    expect(key.kid).toBe(await calculateJwkThumbprint(key as JWK, 'sha256'));
  });

  it.each(ALGORITHMS)(
    '%s: the whole document, walked recursively, holds no private member (d, p, q, dp, dq, qi, k)',
    async (alg) => {
      const t = await service({ jwt: { algorithm: alg } });
      const { access } = await t.login();
      await t.svc.core.secrets.rotateIfDue(); // not due: still one key
      const names = memberNames(await jwksOf(t));
      expect(names).toContain('x');
      expect(names.filter((n) => PRIVATE_MEMBERS.has(n))).toEqual([]);
      expect(access).not.toBe('');
    },
  );

  it('GET and HEAD only: other methods → 405 Allow: GET,HEAD', async () => {
    const t = await service({ jwt: { algorithm: 'EdDSA' } });
    const res = await t.request('/auth/jwks.json', { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET,HEAD');
    const head = await t.request('/auth/jwks.json', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});

describe.each(ALGORITHMS)('Signing with jwt.algorithm = %s', (alg) => {
  let t: TestService;
  beforeAll(async () => {
    t = await service({ jwt: { algorithm: alg } });
  });

  it('login → validate → refresh → validate; every token carries {"alg","typ":"JWT","kid"} and verifies against the JWKS', async () => {
    const { access, refresh, res } = await t.login();
    expect(res.status).toBe(200);
    const jwks = await jwksOf(t);
    const kid = jwks.keys[0]?.kid;
    for (const token of [access, refresh]) {
      const { header, headerPart } = decodeJwt(token);
      expect(Buffer.from(headerPart, 'base64url').toString()).toBe(JSON.stringify({ alg, typ: 'JWT', kid }));
      expect(header).toEqual({ alg, typ: 'JWT', kid });
      // Any JOSE library verifies it with the published keys alone.
      await compactVerify(token, createLocalJWKSet(jwks as never), { algorithms: [alg] });
    }
    expect((await validate(t, access)).status).toBe(200);
    t.clock.advanceSeconds(t.svc.config.jwt.access_token_expiry + t.svc.config.jwt.leeway_seconds + 1); // refresh wants it expired
    const next = await expectPair(
      await t.post('/auth/refresh', { access_token: access, refresh_token: refresh }, { host: 'localhost:3001' }),
    );
    expect(decodeJwt(next.access).header).toEqual({ alg, typ: 'JWT', kid });
    expect((await validate(t, next.access)).status).toBe(200);
  });

  it('our own header is verified synchronously (node:crypto, no jose promise); then from the signature cache', async () => {
    const { access } = await t.login();
    const opts = { issuer: t.svc.config.jwt.issuer, leewaySeconds: 60, nowSeconds: nowSeconds(t.clock) };
    expect(verifySync(access, 'access', t.svc.core.secrets, opts)).toMatchObject({ token_type: 'access' });
    expect((await validate(t, access)).status).toBe(200);
    expect(t.svc.core.signatureCache.get(access)).toBeDefined();
    expect((await validate(t, access)).status).toBe(200);
  });

  it('a signature that does not verify → 401 InvalidSignature', async () => {
    const { access } = await t.login();
    const [h, p, s = ''] = access.split('.');
    const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    await expectInvalid(await validate(t, `${h}.${p}.${flipped}`), 'InvalidSignature');
  });
});

describe.each(ALGORITHMS)('Security: algorithm confusion (jwt.algorithm = %s)', (alg) => {
  let t: TestService;
  let payload: Record<string, unknown>;
  let publicJwk: Record<string, string>;
  beforeAll(async () => {
    t = await service({ jwt: { algorithm: alg } });
    // The claims of a real session: a refusal below is the signature's, never the session's.
    payload = decodeJwt((await mintPair(t)).access).payload;
    publicJwk = (await jwksOf(t)).keys[0] as Record<string, string>;
  });

  const badSignature = async () => {
    const { access } = await t.login();
    const [h, p] = access.split('.');
    return validate(t, `${h}.${p}.${'A'.repeat(86)}`);
  };

  it('HS256 tokens HMAC-signed with the public key (raw x, PEM, DER, JWK JSON) are refused like a bad signature', async () => {
    const bad = await badSignature();
    const pem = createPublicKey({ key: publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    const der = createPublicKey({ key: publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'der' });
    const secrets: Array<string | Uint8Array> = [
      Buffer.from(publicJwk.x as string, 'base64url'),
      publicJwk.x as string,
      pem,
      der,
      JSON.stringify(publicJwk),
    ];
    for (const secret of secrets) {
      for (const header of [
        { typ: 'JWT', alg: 'HS256' },
        { alg: 'HS256', typ: 'JWT', kid: publicJwk.kid },
      ]) {
        const res = await validate(t, hmacToken(header, payload, secret));
        expect(res.status).toBe(bad.status);
        expect(res.headers.get('x-auth-error')).toBe(bad.headers.get('x-auth-error'));
        await expectInvalid(res, 'InvalidAlgorithm');
      }
    }
    expect(bad.status).toBe(401);
  });

  it('alg "none" is refused (with and without our kid)', async () => {
    for (const header of [
      { alg: 'none', typ: 'JWT' },
      { alg: 'none', typ: 'JWT', kid: publicJwk.kid },
    ]) {
      await expectInvalid(await validate(t, `${b64url(header)}.${b64url(payload)}.`), 'InvalidAlgorithm');
    }
  });

  it('the other asymmetric algorithm is refused even when correctly signed with its own key', async () => {
    const other: Alg = alg === 'EdDSA' ? 'ES256' : 'EdDSA';
    const { privateKey } = keyPair(other);
    const token = await new CompactSign(Buffer.from(JSON.stringify(payload)))
      .setProtectedHeader({ alg: other, typ: 'JWT', kid: publicJwk.kid })
      .sign(privateKey);
    await expectInvalid(await validate(t, token), 'InvalidAlgorithm');
  });

  it('a kid we do not know, or no kid, is refused', async () => {
    for (const kid of ['nope', undefined]) {
      const token = await forgeSigned(t, payload, { alg, typ: 'JWT', ...(kid === undefined ? {} : { kid }) });
      await expectInvalid(await validate(t, token), 'InvalidSignature');
    }
    // The same claims with our kid and our key verify: the refusals above are about the kid.
    const ours = await forgeSigned(t, payload, { alg, typ: 'JWT', kid: publicJwk.kid });
    expect((await validate(t, alg === 'ES256' ? withLowS(ours) : ours)).status).toBe(200); // as mint spells it
  });

  it('a token signed by a foreign key of the same algorithm, under our kid, is refused', async () => {
    const { privateKey, publicKey } = keyPair(alg);
    const header = { alg, typ: 'JWT', kid: publicJwk.kid };
    const token = await new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader(header).sign(privateKey);
    // Exactly our header text: the synchronous path checks it against our key and refuses.
    expect(token.split('.')[0]).toBe(b64url(header));
    await expectInvalid(await validate(t, token), 'InvalidSignature');
    // …and the same token with the foreign key's own kid is an unknown kid.
    const foreignKid = await calculateJwkThumbprint(await exportJWK(publicKey));
    const token2 = await new CompactSign(Buffer.from(JSON.stringify(payload)))
      .setProtectedHeader({ alg, typ: 'JWT', kid: foreignKid })
      .sign(privateKey);
    await expectInvalid(await validate(t, token2), 'InvalidSignature');
  });
});

describe('Security: algorithm confusion under HS256', () => {
  it('an EdDSA token is refused (InvalidAlgorithm), whatever key signed it', async () => {
    const t = await service();
    const payload = claimsFor(t, { sub: await adminKeyId(t) });
    const { privateKey } = generateKeyPairSync('ed25519');
    const token = await new CompactSign(Buffer.from(JSON.stringify(payload)))
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: 'x' })
      .sign(privateKey);
    await expectInvalid(await validate(t, token), 'InvalidAlgorithm');
    // HS256 tokens keep the Rust header, without a kid.
    const { access } = await t.login();
    expect(decodeJwt(access).headerPart).toBe('eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9');
  });
});

describe.each(ALGORITHMS)('Key rotation with overlap (jwt.algorithm = %s)', (alg) => {
  // Rotation after 1 h, the previous key verifies until 2 h after it was made; tokens live 3 h.
  const config = {
    jwt: { algorithm: alg, access_token_expiry: 10_800, refresh_token_expiry: 20_000 },
    secrets: { rotation_interval_seconds: 3600, grace_period_seconds: 7200 },
  } as const;

  it('previous-key tokens verify until the grace period ends; the JWKS lists both keys meanwhile', async () => {
    const t = await service(config);
    const before = await t.login();
    const oldKid = decodeJwt(before.access).header.kid;
    expect((await jwksOf(t)).keys.map((k) => k.kid)).toEqual([oldKid]);

    t.clock.advanceMs(3600 * 1000);
    expect(await t.svc.core.secrets.rotateIfDue()).toBe(true);
    const after = await t.login();
    const newKid = decodeJwt(after.access).header.kid;
    expect(newKid).not.toBe(oldKid);
    // Overlap: the new key first, then the previous one; both kinds of token verify.
    expect((await jwksOf(t)).keys.map((k) => k.kid)).toEqual([newKid, oldKid]);
    expect(memberNames(await jwksOf(t)).filter((n) => PRIVATE_MEMBERS.has(n))).toEqual([]);
    expect((await validate(t, before.access)).status).toBe(200);
    expect((await validate(t, after.access)).status).toBe(200);

    // At the last second of the grace period the previous key still verifies…
    t.clock.advanceMs(3600 * 1000);
    expect((await validate(t, before.access)).status).toBe(200);
    // …one second later it is gone: its tokens are refused though not expired, and unpublished.
    t.clock.advanceMs(1000);
    expect(decodeJwt(before.access).payload.exp as number).toBeGreaterThan(nowSeconds(t.clock));
    await expectInvalid(await validate(t, before.access), 'InvalidSignature');
    expect((await jwksOf(t)).keys.map((k) => k.kid)).toEqual([newKid]);
    expect((await validate(t, after.access)).status).toBe(200);
  });

  it('another instance on the same store adopts the rotated key (reload)', async () => {
    const store = new MemoryStore();
    const a = await service(config, { store });
    const b = await service(config, { store, admin: false });
    const token = (await a.login()).access;
    expect((await validate(b, token)).status).toBe(200);
    a.clock.advanceMs(3600 * 1000);
    b.clock.advanceMs(3600 * 1000);
    await a.svc.core.secrets.rotateIfDue();
    await b.svc.core.secrets.reload();
    const fresh = (await a.login()).access;
    expect((await validate(b, fresh)).status).toBe(200);
    expect((await jwksOf(b)).keys).toEqual((await jwksOf(a)).keys);
  });
});

describe('Switching jwt.algorithm on an existing store', () => {
  it('HS256 → EdDSA: a keypair is made at start, HS256 tokens stop verifying, the HMAC secret is left as it was', async () => {
    const store = new MemoryStore();
    const hs = await service({}, { store });
    const { access } = await hs.login();
    const hmacRecord = await store.get('system:secrets:jwt_auth');
    const ed = await service({ jwt: { algorithm: 'EdDSA' } }, { store, admin: false });
    expect(await store.get('system:secrets:jwt_signing_eddsa')).toBeDefined();
    await expectInvalid(await validate(ed, access), 'InvalidAlgorithm');
    expect(await store.get('system:secrets:jwt_auth')).toEqual(hmacRecord);
    // The keypair is sealed with the KEK like the secret: no private member in clear.
    const sealed = Buffer.from((await store.get('system:secrets:jwt_signing_eddsa')) as Uint8Array).toString('latin1');
    expect(sealed.startsWith('MEAS1')).toBe(true);
    expect(sealed).not.toContain('"d"');
    const { access: edAccess } = await ed.login();
    expect((await validate(ed, edAccess)).status).toBe(200);
  });
});

describe('Security: one token, one string under ES256 (low-s signatures)', () => {
  const sigOf = (token: string) => Buffer.from(token.split('.')[2] ?? '', 'base64url');
  const withSig = (token: string, sig: Buffer) => `${token.slice(0, token.lastIndexOf('.') + 1)}${sig.toString('base64url')}`;

  it('every minted signature is low-s; the (r, n − s) twin of a valid token, itself a valid ECDSA signature, is refused', async () => {
    const t = await service({ jwt: { algorithm: 'ES256' } });
    const tokens: string[] = [];
    for (let i = 0; i < 12; i++) {
      const pair = await mintPair(t);
      tokens.push(pair.access, pair.refresh);
    }
    expect(tokens.filter((tok) => isHighS(sigOf(tok)))).toEqual([]);
    const access = tokens[0] as string;
    const twin = withSig(access, flipS(sigOf(access)));
    // The twin verifies as plain ECDSA: the refusal below is the low-s rule, not a broken signature.
    const jwk = (await jwksOf(t)).keys[0] as never;
    const input = Buffer.from(access.slice(0, access.lastIndexOf('.')));
    expect(
      cryptoVerify(
        'sha256',
        input,
        { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
        sigOf(twin),
      ),
    ).toBe(true);
    await expectInvalid(await validate(t, twin), 'InvalidSignature');
    expect((await validate(t, access)).status).toBe(200);
  });

  it('the rule holds on the asynchronous path too (a header spelled differently from ours)', async () => {
    const t = await service({ jwt: { algorithm: 'ES256' } });
    const kid = (await jwksOf(t)).keys[0]?.kid;
    const payload = decodeJwt((await mintPair(t)).access).payload;
    const low = withLowS(await forgeSigned(t, payload, { typ: 'JWT', alg: 'ES256', kid }));
    expect((await validate(t, low)).status).toBe(200);
    await expectInvalid(await validate(t, withSig(low, flipS(sigOf(low)))), 'InvalidSignature');
  });
});
