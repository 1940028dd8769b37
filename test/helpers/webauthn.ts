/**
 * A software WebAuthn authenticator for HTTP tests (issue 13): @simplewebauthn ships none. It
 * makes real ES256 (P-256) credentials with node:crypto and answers registration (attestation
 * format "none") and sign-in ceremonies exactly as a platform authenticator would: authenticator
 * data with the RP ID hash, flags, signature counter and attested credential data (a COSE key in
 * CBOR). Every field can be overridden, so the tests can forge wrong origins, wrong RP IDs,
 * replayed challenges and rolled-back counters.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

// ── a tiny CBOR encoder (RFC 8949): the types a COSE key and an attestation object need ──────

type Cbor = number | string | Uint8Array | Cbor[] | Map<Cbor, Cbor> | { [k: string]: Cbor };

function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

export function cbor(v: Cbor): Buffer {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error('cbor: integers only');
    return v >= 0 ? head(0, v) : head(1, -1 - v);
  }
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([head(3, b.length), b]);
  }
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), Buffer.from(v)]);
  if (Array.isArray(v)) return Buffer.concat([head(4, v.length), ...v.map(cbor)]);
  const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, x]) => [cbor(k), cbor(x)])]);
}

// ── the authenticator ──────────────────────────────────────────────────────────────────────

const b64url = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string): Buffer => createHash('sha256').update(b).digest();

export const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

export interface Credential {
  id: Buffer;
  privateKey: KeyObject;
  cose: Buffer;
  userHandle: string;
  counter: number;
}

export interface CeremonyOverrides {
  origin?: string;
  /** The RP ID whose hash goes into the authenticator data. */
  rpId?: string;
  challenge?: string;
  type?: string;
  flags?: number;
  /** The counter to report (default: the credential's, plus one). */
  counter?: number;
  /** Sign with this credential's key instead (a signature that does not match). */
  signWith?: Credential;
  /** Registration: make the new credential under this id (an authenticator re-using an id). */
  credentialId?: Buffer;
}

export class SoftAuthenticator {
  readonly credentials: Credential[] = [];

  constructor(
    readonly rpId: string,
    readonly origin: string,
  ) {}

  private authData(rpId: string, flags: number, counter: number, attested?: Credential): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter >>> 0);
    const parts: Buffer[] = [sha256(rpId), Buffer.from([flags]), count];
    if (attested) {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(attested.id.length);
      parts.push(Buffer.alloc(16), len, attested.id, attested.cose); // AAGUID zero: attestation "none"
    }
    return Buffer.concat(parts);
  }

  private clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** Answers `navigator.credentials.create()` options (PublicKeyCredentialCreationOptionsJSON). */
  register(options: { challenge: string; user: { id: string } }, o: CeremonyOverrides = {}): Record<string, unknown> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = cbor(
      new Map<Cbor, Cbor>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x as string, 'base64url')],
        [-3, Buffer.from(jwk.y as string, 'base64url')],
      ]),
    );
    const credential: Credential = {
      id: o.credentialId ?? randomBytes(16),
      privateKey,
      cose,
      userHandle: options.user.id,
      counter: o.counter ?? 0,
    };
    const flags = o.flags ?? FLAG.UP | FLAG.UV | FLAG.AT;
    const authData = this.authData(o.rpId ?? this.rpId, flags, credential.counter, credential);
    const clientDataJSON = this.clientData(
      o.type ?? 'webauthn.create',
      o.challenge ?? options.challenge,
      o.origin ?? this.origin,
    );
    this.credentials.push(credential);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(cbor({ fmt: 'none', attStmt: {}, authData })),
        transports: ['internal'],
      },
    };
  }

  /** Answers `navigator.credentials.get()` options with a credential (default: the last made). */
  assert(
    options: { challenge: string },
    o: CeremonyOverrides = {},
    credential = this.credentials.at(-1),
  ): Record<string, unknown> {
    if (credential === undefined) throw new Error('SoftAuthenticator: no credential');
    const counter = o.counter ?? credential.counter + 1;
    credential.counter = counter;
    const flags = o.flags ?? FLAG.UP | FLAG.UV;
    const authData = this.authData(o.rpId ?? this.rpId, flags, counter);
    const clientDataJSON = this.clientData(o.type ?? 'webauthn.get', o.challenge ?? options.challenge, o.origin ?? this.origin);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), (o.signWith ?? credential).privateKey);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: credential.userHandle,
      },
    };
  }
}
