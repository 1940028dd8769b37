import { createHmac, KeyObject, timingSafeEqual, verify as cryptoVerify, type webcrypto } from 'node:crypto';
import { compactVerify, errors as joseErrors } from 'jose';
import { tokenHeader, type JwtAlgorithm } from '../secrets/scheme.js';
import type { TokenClaims, TokenType } from './claims.js';
import { isHighS } from './ecdsa-low-s.js';
import { expired, invalid, TokenError } from './token-error.js';
import { describeJson } from '../util/describe-json.js';

/** What the secret manager provides: the keys to try, primary first. */
export interface VerifyKeySource {
  verifyKeys(): readonly webcrypto.CryptoKey[];
  /**
   * The one algorithm accepted (`jwt.algorithm`); absent = HS256. It is pinned here, never read
   * from the token: a token whose header names another algorithm is refused at step 2.
   */
  readonly algorithm?: JwtAlgorithm;
  /** The kid of a verify key; with an asymmetric algorithm a token's kid picks its key. */
  kidOf?(key: webcrypto.CryptoKey): string | undefined;
}

export interface VerifyOptions {
  issuer: string;
  leewaySeconds: number;
  nowSeconds: number;
  /** Entry point 3 of wire §4.5: everything except the expiry rule. */
  ignoreExpiry?: boolean;
  /** Remembers tokens whose signature already verified, so the hot path skips the HMAC. */
  cache?: SignatureCache;
}

/** A verified token: the key that verified it, its payload, and its claims once checked. */
export interface SignatureCacheEntry {
  readonly key: webcrypto.CryptoKey;
  readonly payload: Readonly<Record<string, unknown>>;
  checked?: { issuer: string; claims: TokenClaims };
}

export interface SignatureCache {
  get(token: string): SignatureCacheEntry | undefined;
  set(token: string, key: webcrypto.CryptoKey, payload: Record<string, unknown>): SignatureCacheEntry;
}

// The only header we mint; a token carrying it needs no header parsing.
const OUR_HEADER = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9';
const B64URL = /^[A-Za-z0-9_-]*$/;
const decoder = new TextDecoder('utf-8', { fatal: true });
// jose's message when the signature verified but the payload is not base64url (pinned by a test).
const JOSE_PAYLOAD_DECODE_FAILED = 'Failed to base64url decode the payload';

function decodePart(part: string): unknown {
  if (!B64URL.test(part) || part.length % 4 === 1) throw invalid('Base64 error: Invalid symbol or length');
  let text: string;
  try {
    text = decoder.decode(Buffer.from(part, 'base64url'));
  } catch {
    throw invalid('JSON error: invalid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalid(`JSON error: ${(e as Error).message}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** What verifySync answers when the token needs the asynchronous verifier (a header not ours). */
export const NEEDS_JOSE = Symbol('needs jose');

/**
 * Verifies a compact JWS in the exact step order of wire §4.4 and returns its claims.
 * verifySync does the work; only a token whose header is not the one we mint goes to jose
 * (algorithm pinned to `keys.algorithm`, HS256 by default). The claim rules are ours, because jose's own run in a different
 * order and draw the expiry line one second earlier.
 */
export async function verifyToken(
  token: string,
  expected: TokenType,
  keys: VerifyKeySource,
  opts: VerifyOptions,
): Promise<TokenClaims> {
  const claims = verifySync(token, expected, keys, opts);
  if (claims !== NEEDS_JOSE) return claims;
  const candidates = keys.verifyKeys();
  const [payloadPart, key] = await checkSignature(token, candidates, keys);
  return checkPayload(decodePart(payloadPart), expected, opts, token, key);
}

/**
 * verifyToken without an await: a token verified before (the cache) or carrying our own header
 * (the HMAC by node:crypto, synchronous, instead of a WebCrypto promise). Throws the TokenError
 * of the first failing step; NEEDS_JOSE when the header must be parsed and checked by jose.
 */
export function verifySync(
  token: string,
  expected: TokenType,
  keys: VerifyKeySource,
  opts: VerifyOptions,
): TokenClaims | typeof NEEDS_JOSE {
  const candidates = keys.verifyKeys();
  const entry = opts.cache?.get(token);
  if (entry !== undefined && candidates.includes(entry.key)) {
    // Steps 1–3 already passed for this exact string, with a key that still verifies.
    const known = entry.checked;
    if (known !== undefined && known.issuer === opts.issuer && known.claims.token_type === expected) {
      // Steps 4 and 6–9 are pure functions of the payload and passed before; only 5 can change.
      if (!opts.ignoreExpiry && known.claims.exp < opts.nowSeconds - opts.leewaySeconds) throw expired();
      return known.claims;
    }
    return checkPayload(entry.payload, expected, opts, token, entry.key, entry);
  }
  const alg = keys.algorithm ?? 'HS256';
  if (alg !== 'HS256') return verifyAsymmetricSync(token, expected, keys, alg, candidates, opts);
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== OUR_HEADER || parts[1] === '') {
    // Not ours: structure errors and every other header take jose's way, in step order.
    return NEEDS_JOSE;
  }
  const [headerPart, payloadPart, signature] = parts as [string, string, string];
  // 3. Signature, against the primary, then an eligible backup (see checkSignature).
  if (!isCanonicalBase64url(signature)) throw invalid('InvalidSignature');
  if (candidates.length === 0) throw invalid('No verification secret available');
  const given = Buffer.from(signature, 'base64url');
  const input = `${headerPart}.${payloadPart}`;
  for (const key of candidates) {
    const mac = createHmac('sha256', keyObjectOf(key)).update(input).digest();
    if (mac.length === given.length && timingSafeEqual(mac, given)) {
      // 4. Payload: decoded only after the HMAC matched, as jose does (wire §4.4 step order).
      return checkPayload(decodePart(payloadPart), expected, opts, token, key);
    }
  }
  throw invalid('InvalidSignature');
}

/**
 * verifySync for EdDSA/ES256: a token carrying the exact header we mint for one of the verify
 * keys (alg + kid) is checked by node:crypto's synchronous verify against that key only; any
 * other header goes to checkSignature, which parses it.
 */
function verifyAsymmetricSync(
  token: string,
  expected: TokenType,
  keys: VerifyKeySource,
  alg: Exclude<JwtAlgorithm, 'HS256'>,
  candidates: readonly webcrypto.CryptoKey[],
  opts: VerifyOptions,
): TokenClaims | typeof NEEDS_JOSE {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === '') return NEEDS_JOSE;
  const [headerPart, payloadPart, signature] = parts as [string, string, string];
  const key = candidates.find((k) => ourHeaderOf(k, alg, keys) === headerPart);
  if (key === undefined) return NEEDS_JOSE;
  if (!isCanonicalBase64url(signature)) throw invalid('InvalidSignature');
  if (!verifyWith(alg, key, `${headerPart}.${payloadPart}`, Buffer.from(signature, 'base64url'))) {
    throw invalid('InvalidSignature');
  }
  return checkPayload(decodePart(payloadPart), expected, opts, token, key);
}

function verifyWith(alg: Exclude<JwtAlgorithm, 'HS256'>, key: webcrypto.CryptoKey, input: string, signature: Buffer): boolean {
  try {
    if (alg === 'EdDSA') return cryptoVerify(null, Buffer.from(input), keyObjectOf(key), signature);
    // ES256 signatures are r‖s (JWA §3.4), which node:crypto calls ieee-p1363; only low-s counts.
    if (isHighS(signature)) return false;
    return cryptoVerify('sha256', Buffer.from(input), { key: keyObjectOf(key), dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

// The base64url header we mint for a key (tokenHeader, as mint.ts writes it), made once per key.
const ourHeaders = new WeakMap<webcrypto.CryptoKey, string | null>();
function ourHeaderOf(key: webcrypto.CryptoKey, alg: JwtAlgorithm, keys: VerifyKeySource): string | null {
  let h = ourHeaders.get(key);
  if (h === undefined) {
    const kid = keys.kidOf?.(key);
    h = kid === undefined ? null : Buffer.from(JSON.stringify(tokenHeader(alg, kid))).toString('base64url');
    ourHeaders.set(key, h);
  }
  return h;
}

// node:crypto signs with a KeyObject; one per WebCrypto key, made once.
const keyObjects = new WeakMap<webcrypto.CryptoKey, KeyObject>();
function keyObjectOf(key: webcrypto.CryptoKey): KeyObject {
  let ko = keyObjects.get(key);
  if (ko === undefined) keyObjects.set(key, (ko = KeyObject.from(key)));
  return ko;
}

/** Steps 4–9 on a payload whose signature verified with `key`; remembers a good result. */
function checkPayload(
  payload: unknown,
  expected: TokenType,
  opts: VerifyOptions,
  token: string,
  key: webcrypto.CryptoKey,
  known?: SignatureCacheEntry,
): TokenClaims {
  const entry = known ?? (opts.cache !== undefined && isObject(payload) ? opts.cache.set(token, key, payload) : undefined);
  if (!isObject(payload)) throw invalid(`JSON error: invalid type: ${describeJson(payload)}, expected struct Claims`);
  if (payload.exp === undefined) throw invalid('Missing required claim: exp');
  if (!isNonNegInt(payload.exp)) {
    throw invalid(`JSON error: invalid type: ${describeJson(payload.exp)}, expected u64`);
  }
  // 5. Expiry, with leeway: expired iff exp < now − L.
  if (!opts.ignoreExpiry && payload.exp < opts.nowSeconds - opts.leewaySeconds) throw expired();
  // 6–7. Issuer and audience (when present; absence is a shape error below).
  if (payload.iss !== undefined && payload.iss !== opts.issuer) throw invalid('InvalidIssuer');
  if (payload.aud !== undefined && payload.aud !== opts.issuer) throw invalid('InvalidAudience');
  // 8–9. Claim shape and type.
  const claims = checkShape(payload, expected);
  if (entry !== undefined) entry.checked = { issuer: opts.issuer, claims: deepFreeze(claims) };
  return claims;
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) Object.freeze(v);
  return Object.freeze(o);
}

function isCanonicalBase64url(part: string): boolean {
  return B64URL.test(part) && Buffer.from(part, 'base64url').toString('base64url') === part;
}

/** Steps 1–3 of wire §4.4; returns the payload part and the key that verified it. */
async function checkSignature(
  token: string,
  all: readonly webcrypto.CryptoKey[],
  keys: VerifyKeySource,
): Promise<[string, webcrypto.CryptoKey]> {
  const alg = keys.algorithm ?? 'HS256';
  let candidates = all;
  // 1. Structure.
  const parts = token.split('.');
  // An empty signature is well-formed (alg "none" tokens have one) and fails at step 2 or 3.
  if (parts.length !== 3 || parts[0] === '' || parts[1] === '') {
    throw invalid('Malformed token: InvalidToken');
  }
  const [headerPart, payloadPart] = parts as [string, string, string];
  if (alg !== 'HS256' || headerPart !== OUR_HEADER) {
    const header = decodePart(headerPart);
    if (!isObject(header)) throw invalid('JSON error: header is not an object');
    // 2. Algorithm: the configured one, whatever the header claims (no HS256 token is taken
    // under a keypair, so a public key used as an HMAC secret never verifies; `none` never does).
    if (header.alg !== alg) throw invalid('InvalidAlgorithm');
    if (header.crit !== undefined) throw invalid('InvalidToken');
    if (alg !== 'HS256') {
      // The kid picks the key; a kid we do not know (or none) is a bad signature.
      candidates = all.filter((k) => typeof header.kid === 'string' && keys.kidOf?.(k) === header.kid);
      if (all.length > 0 && candidates.length === 0) throw invalid('InvalidSignature');
    }
  }
  // 3. Signature, against the primary, then an eligible backup. Only the canonical spelling of
  // the signature counts (jose would also take a trailing `=`, or a last character that differs
  // only in unused bits): one token, one string, as Rust compares the signature text itself.
  if (!isCanonicalBase64url(parts[2] as string)) throw invalid('InvalidSignature');
  // The other ECDSA spelling of a signature, (r, n − s), is refused as well (ecdsa-low-s.ts).
  if (alg === 'ES256' && isHighS(Buffer.from(parts[2] as string, 'base64url'))) throw invalid('InvalidSignature');
  if (candidates.length === 0) throw invalid('No verification secret available');
  for (const key of candidates) {
    try {
      await compactVerify(token, key, { algorithms: [alg] });
      return [payloadPart, key];
    } catch (e) {
      if (e instanceof joseErrors.JWSSignatureVerificationFailed) continue;
      if (e instanceof joseErrors.JWSInvalid && e.message === JOSE_PAYLOAD_DECODE_FAILED) {
        // jose decodes the payload only after the HMAC matched: the signature step passed, and
        // step 4 below reports the payload's own Base64 error (wire §4.4 step order).
        return [payloadPart, key];
      }
      if (e instanceof joseErrors.JOSEAlgNotAllowed) throw invalid('InvalidAlgorithm');
      throw invalid('Malformed token: InvalidToken');
    }
  }
  throw invalid('InvalidSignature');
}

function checkShape(p: Record<string, unknown>, expected: TokenType): TokenClaims {
  for (const name of ['sub', 'iss', 'aud', 'jti', 'token_type', 'sid'] as const) {
    const v = p[name];
    if (v === undefined) throw invalid(`JSON error: missing field \`${name}\``);
    if (typeof v !== 'string') throw invalid(`JSON error: invalid type: ${describeJson(v)}, expected a string`);
  }
  if (p.iat === undefined) throw invalid('JSON error: missing field `iat`');
  if (!isNonNegInt(p.iat)) throw invalid(`JSON error: invalid type: ${describeJson(p.iat)}, expected u64`);
  const perms = p.permissions;
  if (perms === undefined) throw invalid('JSON error: missing field `permissions`');
  if (!Array.isArray(perms)) throw invalid(`JSON error: invalid type: ${describeJson(perms)}, expected a sequence`);
  for (const item of perms) {
    if (typeof item !== 'string') throw invalid(`JSON error: invalid type: ${describeJson(item)}, expected a string`);
  }
  const nodeUrl = p.node_url;
  if (nodeUrl !== undefined && nodeUrl !== null && typeof nodeUrl !== 'string') {
    throw invalid(`JSON error: invalid type: ${describeJson(nodeUrl)}, expected a string`);
  }
  const type = p.token_type;
  if (type !== 'access' && type !== 'refresh') {
    throw invalid(`JSON error: unknown variant \`${String(type)}\`, expected \`access\` or \`refresh\``);
  }
  // 9. Type.
  if (type !== expected) {
    throw invalid(`Wrong token type: expected ${label(expected)}, got ${label(type)}`);
  }
  const claims: TokenClaims = {
    sub: p.sub as string,
    iss: p.iss as string,
    aud: p.aud as string,
    exp: p.exp as number,
    iat: p.iat,
    jti: p.jti as string,
    token_type: type,
    permissions: [...(perms as string[])],
    sid: p.sid as string,
  };
  if (typeof nodeUrl === 'string') claims.node_url = nodeUrl;
  return claims;
}

const label = (t: TokenType): string => (t === 'access' ? 'Access' : 'Refresh');

export { TokenError };
