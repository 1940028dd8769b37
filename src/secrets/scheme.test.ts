import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../storage/memory.js';
import { ManualClock } from '../util/clock.js';
import { SecretsError } from './errors.js';
import { SecretManager } from './manager.js';
import { BACKUP_KEY, PRIMARY_KEY } from './record.js';
import { signingScheme, tokenHeader } from './scheme.js';
import { unseal } from './seal.js';

const ASYMMETRIC = ['EdDSA', 'ES256'] as const;

describe('signing schemes', () => {
  it('HS256 keeps the Rust records and header (no kid)', () => {
    const s = signingScheme('HS256');
    expect([s.primaryKey, s.backupKey, s.secretType]).toEqual([PRIMARY_KEY, BACKUP_KEY, 'JwtAuth']);
    expect(JSON.stringify(tokenHeader('HS256', undefined))).toBe('{"typ":"JWT","alg":"HS256"}');
  });

  it.each(ASYMMETRIC)(
    '%s: own records; a generated key loads, kid = RFC 7638 thumbprint, the public JWK has no d',
    async (alg) => {
      const s = signingScheme(alg);
      expect(s.primaryKey).toBe(`system:secrets:jwt_signing_${alg.toLowerCase()}`);
      expect(s.backupKey).toBe(`${s.primaryKey}_backup`);
      const value = await s.generate();
      expect(JSON.parse(value)).toHaveProperty('d');
      const keys = await s.load(value, 'k');
      expect(keys.publicJwk).toBeDefined();
      expect(Object.keys(keys.publicJwk ?? {})).not.toContain('d');
      expect(keys.kid).toBe(await calculateJwkThumbprint(keys.publicJwk as never));
      expect(keys.sign.type).toBe('private');
      expect(keys.verify.type).toBe('public');
      expect(JSON.stringify(tokenHeader(alg, keys.kid))).toBe(JSON.stringify({ alg, typ: 'JWT', kid: keys.kid }));
    },
  );

  it.each(ASYMMETRIC)('%s: a value that is not a private key of the curve is a SecretsError naming the record', async (alg) => {
    const s = signingScheme(alg);
    const other = await signingScheme(alg === 'EdDSA' ? 'ES256' : 'EdDSA').generate();
    const { d: _d, ...pub } = JSON.parse(await s.generate()) as Record<string, string>;
    for (const value of ['not json', other, JSON.stringify(pub), '{"kty":"OKP","crv":"Ed25519","x":"AA","d":"AA"}']) {
      await expect(s.load(value, 'system:secrets:x')).rejects.toThrow(SecretsError);
      await expect(s.load(value, 'system:secrets:x')).rejects.toThrow(/system:secrets:x/);
    }
  });
});

describe.each(ASYMMETRIC)('SecretManager with algorithm %s', (alg) => {
  const opts = (store: MemoryStore, clock: ManualClock, kek: Uint8Array) => ({
    store,
    kek,
    clock,
    rotationIntervalSeconds: 3600,
    gracePeriodSeconds: 7200,
    algorithm: alg,
  });

  it('seals the private key with the KEK, leaves the HMAC secret alone, rotates with overlap and publishes both keys', async () => {
    const store = new MemoryStore();
    const clock = new ManualClock();
    const kek = new Uint8Array(randomBytes(32));
    const m = await SecretManager.load(opts(store, clock, kek));
    const { primaryKey, backupKey } = signingScheme(alg);
    expect(await store.get(PRIMARY_KEY)).toBeUndefined();
    const blob = (await store.get(primaryKey)) as Uint8Array;
    const record = JSON.parse(new TextDecoder().decode(unseal(kek, blob))) as { secret_type: string; value: string };
    expect(record.secret_type).toBe(`JwtSigningKey${alg}`);
    expect(Buffer.from(blob).toString('latin1')).not.toContain(record.value);
    const first = m.signingKid();
    expect(m.publicJwks().map((k) => k.kid)).toEqual([first]);
    expect(m.kidOf(m.verifyKeys()[0] as never)).toBe(first);

    clock.advanceSeconds(3600);
    expect(await m.rotateIfDue()).toBe(true);
    expect(await store.get(backupKey)).toBeDefined();
    const second = m.signingKid();
    expect(second).not.toBe(first);
    expect(m.publicJwks().map((k) => k.kid)).toEqual([second, first]);
    expect(m.verifyKeys()).toHaveLength(2);
    // A second instance reads the same keys, kids included.
    const n = await SecretManager.load(opts(store, clock, kek));
    expect(n.publicJwks()).toEqual(m.publicJwks());
    // The grace period ends 7200 s after the first key was made.
    clock.advanceSeconds(3601);
    expect(m.publicJwks().map((k) => k.kid)).toEqual([second]);
    expect(m.verifyKeys()).toHaveLength(1);
  });
});
