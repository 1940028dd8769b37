import { webcrypto } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { SecretsError } from './errors.js';
import { generateSecretValue } from './generate.js';
import { BACKUP_KEY, PRIMARY_KEY } from './record.js';

export type CryptoKey = webcrypto.CryptoKey;

/** `jwt.algorithm`: HS256 (the default, as in Rust) or an asymmetric signature (issue 12). */
export const JWT_ALGORITHMS = ['HS256', 'EdDSA', 'ES256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
export type AsymmetricAlgorithm = Exclude<JwtAlgorithm, 'HS256'>;

/** The public members of a published key (RFC 7517); never `d`. */
export interface PublicJwk {
  kty: 'OKP' | 'EC';
  crv: 'Ed25519' | 'P-256';
  x: string;
  y?: string;
  kid: string;
  alg: AsymmetricAlgorithm;
  use: 'sig';
}

/** A loaded signing secret: the key that signs, the key that verifies, and for a keypair its kid. */
export interface SigningKeys {
  readonly sign: CryptoKey;
  readonly verify: CryptoKey;
  /** RFC 7638 thumbprint of the public key; undefined under HS256 (no kid, as in Rust). */
  readonly kid: string | undefined;
  readonly publicJwk: PublicJwk | undefined;
}

/**
 * How one algorithm keeps its secrets in the store. Every algorithm uses the same sealed record
 * (record.ts) and rotation; they differ in the store keys, the `value` text, and how it becomes
 * keys. The keypairs live under their own keys, so switching algorithm never overwrites the HMAC
 * secret a Rust service sharing the store reads.
 */
export interface SigningScheme {
  readonly algorithm: JwtAlgorithm;
  readonly primaryKey: string;
  readonly backupKey: string;
  readonly secretType: string;
  /** A fresh secret in its stored text form. */
  generate(): Promise<string>;
  /** The keys of a stored `value`; throws SecretsError when it is not one of this scheme. */
  load(value: string, storeKey: string): Promise<SigningKeys>;
}

const encoder = new TextEncoder();

const HS256: SigningScheme = {
  algorithm: 'HS256',
  primaryKey: PRIMARY_KEY,
  backupKey: BACKUP_KEY,
  secretType: 'JwtAuth',
  generate: () => Promise.resolve(generateSecretValue()),
  async load(value) {
    // The HMAC key is the UTF-8 of the secret's text (wire §4.1); imported once per secret.
    const key = await webcrypto.subtle.importKey('raw', encoder.encode(value), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
    return { sign: key, verify: key, kid: undefined, publicJwk: undefined };
  },
};

interface AsymmetricParams {
  readonly importParams: webcrypto.EcKeyImportParams | webcrypto.Algorithm;
  readonly kty: 'OKP' | 'EC';
  readonly crv: 'Ed25519' | 'P-256';
}

const PARAMS: Record<AsymmetricAlgorithm, AsymmetricParams> = {
  EdDSA: { importParams: { name: 'Ed25519' }, kty: 'OKP', crv: 'Ed25519' },
  ES256: { importParams: { name: 'ECDSA', namedCurve: 'P-256' }, kty: 'EC', crv: 'P-256' },
};

function asymmetric(alg: AsymmetricAlgorithm): SigningScheme {
  const p = PARAMS[alg];
  const name = `system:secrets:jwt_signing_${alg.toLowerCase()}`;
  return {
    algorithm: alg,
    primaryKey: name,
    backupKey: `${name}_backup`,
    secretType: `JwtSigningKey${alg}`,
    async generate() {
      const pair = (await webcrypto.subtle.generateKey(p.importParams, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
      const jwk = await webcrypto.subtle.exportKey('jwk', pair.privateKey);
      // The private JWK's own members only (no key_ops/ext): what load() reads back.
      return JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.y === undefined ? {} : { y: jwk.y }), d: jwk.d });
    },
    async load(value, storeKey) {
      const bad = (detail: string, cause?: unknown) =>
        new SecretsError(`cannot read the ${alg} signing key ${storeKey}: ${detail}`, { cause });
      let jwk: JWK;
      try {
        jwk = JSON.parse(value) as JWK;
      } catch (e) {
        throw bad('its value is not a JSON Web Key', e);
      }
      if (typeof jwk !== 'object' || jwk === null || jwk.kty !== p.kty || jwk.crv !== p.crv || typeof jwk.d !== 'string') {
        throw bad(`its value is not a private ${p.crv} JSON Web Key`);
      }
      const pub: JWK = { kty: p.kty, crv: p.crv, x: jwk.x, ...(p.kty === 'EC' ? { y: jwk.y } : {}) };
      try {
        const sign = await webcrypto.subtle.importKey(
          'jwk',
          { ...pub, d: jwk.d } as webcrypto.JsonWebKey,
          p.importParams,
          false,
          ['sign'],
        );
        const verify = await webcrypto.subtle.importKey('jwk', pub as webcrypto.JsonWebKey, p.importParams, true, ['verify']);
        const kid = await calculateJwkThumbprint(pub, 'sha256');
        const publicJwk: PublicJwk = {
          kty: p.kty,
          crv: p.crv,
          x: pub.x as string,
          ...(p.kty === 'EC' ? { y: pub.y as string } : {}),
          kid,
          alg,
          use: 'sig',
        };
        return { sign, verify, kid, publicJwk: Object.freeze(publicJwk) };
      } catch (e) {
        throw bad('the key does not import', e);
      }
    },
  };
}

const SCHEMES: Record<JwtAlgorithm, SigningScheme> = { HS256, EdDSA: asymmetric('EdDSA'), ES256: asymmetric('ES256') };

export function signingScheme(alg: JwtAlgorithm): SigningScheme {
  return SCHEMES[alg];
}

/**
 * The protected header of every token we mint. HS256 keeps Rust's `{"typ":"JWT","alg":"HS256"}`
 * without a kid (wire §4.1); a keypair's tokens carry `{"alg","typ","kid"}`. Shared by mint and
 * verify, whose fast path recognises our own header by its exact base64url text.
 */
export function tokenHeader(alg: JwtAlgorithm, kid: string | undefined): { alg: string; typ: 'JWT'; kid?: string } {
  if (alg === 'HS256' || kid === undefined) return HS256_HEADER;
  return { alg, typ: 'JWT', kid };
}

const HS256_HEADER = Object.freeze({ typ: 'JWT', alg: 'HS256' }) as { alg: string; typ: 'JWT' };
