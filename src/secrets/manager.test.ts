import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../storage/memory.js';
import type { BatchOp, Store } from '../storage/store.js';
import { ManualClock } from '../util/clock.js';
import { SecretsError } from './errors.js';
import { resolveKek } from './kek.js';
import { ROTATION_CHECK_INTERVAL_MS, SecretManager, type CryptoKey } from './manager.js';
import { BACKUP_KEY, PRIMARY_KEY, type SecretRecord } from './record.js';
import { isSealed, seal, unseal } from './seal.js';

const INTERVAL = 30 * 86_400;
const GRACE = 60 * 86_400;
const T0 = 1_700_000_000; // ManualClock's default start, in seconds

const newKek = (): Uint8Array => new Uint8Array(randomBytes(32));
const enc = new TextEncoder();
const dec = new TextDecoder();

function setup(opts: { store?: Store; kek?: Uint8Array; clock?: ManualClock } = {}) {
  const store = opts.store ?? new MemoryStore();
  const kek = opts.kek ?? newKek();
  const clock = opts.clock ?? new ManualClock();
  const info: string[] = [];
  const warn: string[] = [];
  const waiters: Array<{ match: (m: string) => boolean; resolve: () => void }> = [];
  const record = (list: string[]) => (m: string) => {
    list.push(m);
    for (const w of waiters) if (w.match(m)) w.resolve();
  };
  /** Resolves when a log line matching the prefix is written: timer tests wait on it, not on time. */
  const logged = (prefix: string) =>
    new Promise<void>((resolve) => waiters.push({ match: (m) => m.startsWith(prefix), resolve }));
  const load = () =>
    SecretManager.load({
      store,
      kek,
      clock,
      rotationIntervalSeconds: INTERVAL,
      gracePeriodSeconds: GRACE,
      log: { info: record(info), warn: record(warn) },
    });
  return { store, kek, clock, info, warn, logged, load };
}

async function storedJson(store: Store, kek: Uint8Array, key: string): Promise<string | undefined> {
  const blob = await store.get(key);
  return blob === undefined ? undefined : dec.decode(unseal(kek, blob));
}

async function stored(store: Store, kek: Uint8Array, key: string): Promise<SecretRecord | undefined> {
  const json = await storedJson(store, kek, key);
  return json === undefined ? undefined : (JSON.parse(json) as SecretRecord);
}

function sign(key: CryptoKey | Uint8Array): Promise<string> {
  return new SignJWT({ sub: 'k' }).setProtectedHeader({ typ: 'JWT', alg: 'HS256' }).sign(key);
}

/** Whether any key of the set verifies the token, as the token verifier tries them in order. */
async function verifiesWith(token: string, keys: readonly CryptoKey[]): Promise<boolean> {
  for (const key of keys) {
    try {
      await jwtVerify(token, key, { algorithms: ['HS256'] });
      return true;
    } catch (e) {
      if (!(e instanceof joseErrors.JWSSignatureVerificationFailed)) throw e;
    }
  }
  return false;
}

function legacyRecord(value: string, createdAt: number, isPrimary: boolean): SecretRecord {
  return {
    value,
    version: `v${createdAt}`,
    created_at: createdAt,
    expires_at: createdAt + GRACE,
    is_primary: isPrimary,
    secret_type: 'JwtAuth',
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('SecretManager.load', () => {
  it('creates, seals and stores a primary with the exact record; a fresh secret is not expired', async () => {
    const { store, kek, load, info } = setup();
    const m = await load();
    expect(m.signingKey()).toBeDefined();

    const blob = await store.get(PRIMARY_KEY);
    expect(blob).toBeDefined();
    expect(isSealed(blob!)).toBe(true);
    const rec = (await stored(store, kek, PRIMARY_KEY))!;
    expect(rec.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(blob!).toString('latin1')).not.toContain(rec.value);
    expect(await storedJson(store, kek, PRIMARY_KEY)).toBe(
      `{"value":"${rec.value}","version":"v${T0}","created_at":${T0},"expires_at":${T0 + GRACE},"is_primary":true,"secret_type":"JwtAuth"}`,
    );
    expect(rec.expires_at).toBeGreaterThan(T0); // not expired
    expect(await store.get(BACKUP_KEY)).toBeUndefined();
    expect(info).toEqual([`signing secret created (version v${T0})`]);
  });

  it('the HMAC key is the UTF-8 of the 43-character text, not its decoded bytes', async () => {
    const { store, kek, load } = setup();
    const m = await load();
    const { value } = (await stored(store, kek, PRIMARY_KEY))!;
    expect(await verifiesWith(await sign(enc.encode(value)), [m.signingKey()])).toBe(true);
    expect(await verifiesWith(await sign(Buffer.from(value, 'base64url')), [m.signingKey()])).toBe(false);
    // Imported once, non-extractable, for HS256.
    expect(m.signingKey()).toBe(m.signingKey());
    expect(m.signingKey().extractable).toBe(false);
    expect(m.signingKey().algorithm).toEqual({ name: 'HMAC', hash: { name: 'SHA-256' }, length: 344 });
  });

  it('two managers loaded one after the other on the same store and KEK read the same secret', async () => {
    const { store, load } = setup();
    const a = await load();
    const blobBefore = await store.get(PRIMARY_KEY);
    const b = await load();
    expect(await store.get(PRIMARY_KEY)).toEqual(blobBefore); // not rewritten
    expect(await verifiesWith(await sign(a.signingKey()), b.verifyKeys())).toBe(true);
    expect(await verifiesWith(await sign(b.signingKey()), a.verifyKeys())).toBe(true);
  });

  it('two managers loaded concurrently on one store agree on a single secret', async () => {
    const { load } = setup();
    const [a, b] = await Promise.all([load(), load()]);
    expect(await verifiesWith(await sign(a.signingKey()), b.verifyKeys())).toBe(true);
  });

  it('two instances built from the same level config (KEK file) read the same secret', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mero-secrets-'));
    try {
      const storagePath = join(dir, 'auth');
      const store = new MemoryStore(); // stands in for the level store reopened at the same path
      const opts = { env: {}, storageType: 'level' as const, storagePath, warn: () => undefined };
      const first = await setup({ store, kek: await resolveKek(opts) }).load();
      const st = await stat(`${storagePath}.kek`);
      expect([st.mode & 0o777, st.size]).toEqual([0o600, 32]);
      const second = await setup({ store, kek: await resolveKek(opts) }).load();
      expect(await verifiesWith(await sign(first.signingKey()), second.verifyKeys())).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with the exact message when the KEK is wrong', async () => {
    const { store, load } = setup();
    await load();
    const err = await setup({ store })
      .load()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretsError);
    expect((err as Error).message).toBe('cannot unseal the signing secret: wrong key-encryption key?');
  });

  it('loads legacy plaintext records and re-seals them unchanged', async () => {
    const { store, kek, load, info } = setup();
    const oldValue = 'b'.repeat(43);
    const value = 'a'.repeat(43);
    const backupJson = JSON.stringify(legacyRecord(oldValue, T0 - 100, false));
    const primaryJson = JSON.stringify(legacyRecord(value, T0 - 10, true));
    await store.put(PRIMARY_KEY, enc.encode(primaryJson));
    await store.put(BACKUP_KEY, enc.encode(backupJson));

    const m = await load();
    expect(await verifiesWith(await sign(enc.encode(value)), [m.signingKey()])).toBe(true);
    expect(m.verifyKeys()).toHaveLength(2);
    expect(await verifiesWith(await sign(enc.encode(oldValue)), [m.verifyKeys()[1]!])).toBe(true);

    for (const [key, json] of [
      [PRIMARY_KEY, primaryJson],
      [BACKUP_KEY, backupJson],
    ] as const) {
      const blob = (await store.get(key))!;
      expect(isSealed(blob)).toBe(true);
      expect(dec.decode(unseal(kek, blob))).toBe(json);
    }
    expect(info).toEqual(['sealed legacy plaintext signing secrets']);
  });

  it('refuses a malformed record, naming its key', async () => {
    const { store, kek, load } = setup();
    await store.put(PRIMARY_KEY, seal(kek, enc.encode('{"value":"x"}')));
    await expect(load()).rejects.toThrow('cannot read the signing secret system:secrets:jwt_auth: "version" must be a string');
    await store.put(PRIMARY_KEY, seal(kek, enc.encode('not json')));
    await expect(load()).rejects.toThrow('cannot read the signing secret system:secrets:jwt_auth: not a JSON record');
  });

  it('refuses a KEK that is not 32 bytes', async () => {
    await expect(setup({ kek: new Uint8Array(31) }).load()).rejects.toThrow('key-encryption key must be 32 bytes, got 31');
  });

  it('rotates at load when the stored primary is due', async () => {
    const { store, kek, clock, load } = setup();
    const first = await load();
    clock.advanceSeconds(INTERVAL);
    const second = await load();
    expect(second.signingKey()).not.toBe(first.signingKey());
    expect((await stored(store, kek, PRIMARY_KEY))!.created_at).toBe(T0 + INTERVAL);
    expect((await stored(store, kek, BACKUP_KEY))!.created_at).toBe(T0);
  });
});

describe('verify set and rotation', () => {
  it('before any rotation the verify set is exactly [primary], the same array every call', async () => {
    const { load, clock } = setup();
    const m = await load();
    expect(m.verifyKeys()).toEqual([m.signingKey()]);
    expect(m.verifyKeys()[0]).toBe(m.signingKey());
    expect(m.verifyKeys()).toBe(m.verifyKeys());
    clock.advanceSeconds(INTERVAL - 1);
    expect(await m.rotateIfDue()).toBe(false);
    expect(m.verifyKeys()).toEqual([m.signingKey()]);
  });

  it('rotates exactly when now − created_at ≥ interval, in one batch: [new, old], primary first', async () => {
    const { store, kek, clock, load, info } = setup();
    const m = await load();
    const oldKey = m.signingKey();
    const oldRecord = (await stored(store, kek, PRIMARY_KEY))!;
    clock.advanceSeconds(INTERVAL - 1);
    expect(await m.rotateIfDue()).toBe(false);

    const batches: BatchOp[][] = [];
    const realBatch = store.batch.bind(store);
    store.batch = async (ops) => {
      batches.push(ops);
      return realBatch(ops);
    };
    clock.advanceSeconds(1);
    expect(await m.rotateIfDue()).toBe(true);
    expect(batches.map((ops) => ops.map((op) => `${op.type} ${op.key}`))).toEqual([[`put ${PRIMARY_KEY}`, `put ${BACKUP_KEY}`]]);

    const keys = m.verifyKeys();
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(m.signingKey());
    expect(keys[1]).toBe(oldKey);
    expect(m.signingKey()).not.toBe(oldKey);
    expect(m.verifyKeys()).toBe(keys);

    const primary = (await stored(store, kek, PRIMARY_KEY))!;
    const backup = (await stored(store, kek, BACKUP_KEY))!;
    const now = T0 + INTERVAL;
    expect(primary).toEqual({
      value: primary.value,
      version: `v${now}`,
      created_at: now,
      expires_at: now + GRACE,
      is_primary: true,
      secret_type: 'JwtAuth',
    });
    expect(primary.value).not.toBe(oldRecord.value);
    expect(await storedJson(store, kek, BACKUP_KEY)).toBe(JSON.stringify({ ...oldRecord, is_primary: false }));
    expect(backup.expires_at).toBe(oldRecord.expires_at);
    expect(isSealed((await store.get(BACKUP_KEY))!)).toBe(true);
    expect(info[1]).toBe(`signing secret rotated (version v${now}; v${T0} verifies until ${T0 + GRACE})`);
  });

  it('after two rotations the set still has two entries and excludes the oldest', async () => {
    const { store, kek, clock, load } = setup();
    const m = await load();
    const k1 = m.signingKey();
    const token1 = await sign(k1);
    clock.advanceSeconds(INTERVAL);
    await m.rotateIfDue();
    const k2 = m.signingKey();
    const token2 = await sign(k2);
    clock.advanceSeconds(INTERVAL);
    expect(await m.rotateIfDue()).toBe(true);
    const k3 = m.signingKey();

    expect(m.verifyKeys()).toEqual([k3, k2]);
    expect(m.verifyKeys()[0]).toBe(k3);
    expect(m.verifyKeys()[1]).toBe(k2);
    expect(m.verifyKeys()).not.toContain(k1);
    expect(await verifiesWith(token1, m.verifyKeys())).toBe(false);
    expect(await verifiesWith(token2, m.verifyKeys())).toBe(true);
    expect((await stored(store, kek, BACKUP_KEY))!.created_at).toBe(T0 + INTERVAL);
  });

  it('a token signed with the old primary verifies against the backup until the grace ends', async () => {
    const { clock, load } = setup();
    const m = await load();
    const token = await sign(m.signingKey());
    clock.advanceSeconds(INTERVAL);
    await m.rotateIfDue();

    await expect(jwtVerify(token, m.verifyKeys()[0]!, { algorithms: ['HS256'] })).rejects.toThrow(
      joseErrors.JWSSignatureVerificationFailed,
    );
    const { payload, protectedHeader } = await jwtVerify(token, m.verifyKeys()[1]!, {
      algorithms: ['HS256'],
    });
    expect(payload).toEqual({ sub: 'k' });
    expect(protectedHeader).toEqual({ typ: 'JWT', alg: 'HS256' });

    // The backup's expires_at is T0 + GRACE: included at that second, gone one second later.
    clock.set((T0 + GRACE) * 1000 + 999);
    expect(m.verifyKeys()).toHaveLength(2);
    expect(await verifiesWith(token, m.verifyKeys())).toBe(true);
    clock.set((T0 + GRACE + 1) * 1000);
    expect(m.verifyKeys()).toEqual([m.signingKey()]);
    expect(await verifiesWith(token, m.verifyKeys())).toBe(false);
  });

  it('a backup whose value equals the primary is not in the verify set', async () => {
    const { store, kek, load } = setup();
    const value = 'c'.repeat(43);
    await store.put(PRIMARY_KEY, seal(kek, enc.encode(JSON.stringify(legacyRecord(value, T0, true)))));
    await store.put(BACKUP_KEY, seal(kek, enc.encode(JSON.stringify(legacyRecord(value, T0 - 5, false)))));
    const m = await load();
    expect(m.verifyKeys()).toEqual([m.signingKey()]);
  });

  it('a backup already past its expires_at at load is not in the verify set', async () => {
    const { store, kek, load } = setup();
    await store.put(PRIMARY_KEY, seal(kek, enc.encode(JSON.stringify(legacyRecord('d'.repeat(43), T0, true)))));
    const stale = legacyRecord('e'.repeat(43), T0 - GRACE - 1, false);
    await store.put(BACKUP_KEY, seal(kek, enc.encode(JSON.stringify(stale))));
    const m = await load();
    expect(m.verifyKeys()).toEqual([m.signingKey()]);
  });

  it('concurrent rotateIfDue calls rotate once', async () => {
    const { clock, load } = setup();
    const m = await load();
    const k1 = m.signingKey();
    clock.advanceSeconds(INTERVAL);
    expect(await Promise.all([m.rotateIfDue(), m.rotateIfDue()])).toEqual([true, false]);
    expect(m.verifyKeys()[1]).toBe(k1);
  });

  it('a failed rotation write leaves the cache unchanged', async () => {
    const { store, clock, load } = setup();
    const m = await load();
    const k1 = m.signingKey();
    clock.advanceSeconds(INTERVAL);
    store.batch = async () => {
      throw new Error('disk full');
    };
    await expect(m.rotateIfDue()).rejects.toThrow('disk full');
    expect(m.signingKey()).toBe(k1);
    expect(m.verifyKeys()).toEqual([k1]);
  });
});

describe('rotation timer', () => {
  it('checks hourly, rotates when due, and stops on stopTimer', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { clock, load, logged } = setup();
    const m = await load();
    const k1 = m.signingKey();
    m.startTimer();
    m.startTimer(); // idempotent: still one interval

    await vi.advanceTimersByTimeAsync(ROTATION_CHECK_INTERVAL_MS);
    expect(await m.rotateIfDue()).toBe(false); // queued behind the timer's check: flushes it
    expect(m.signingKey()).toBe(k1); // not due yet
    expect(vi.getTimerCount()).toBe(1);

    clock.advanceSeconds(INTERVAL);
    const rotated = logged('signing secret rotated');
    await vi.advanceTimersByTimeAsync(ROTATION_CHECK_INTERVAL_MS);
    await rotated;
    expect(m.signingKey()).not.toBe(k1);
    expect(m.verifyKeys()[1]).toBe(k1);

    m.stopTimer();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('logs a failed rotation instead of throwing', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { store, clock, load, warn, logged } = setup();
    const m = await load();
    m.startTimer();
    clock.advanceSeconds(INTERVAL);
    await store.close();
    const failed = logged('signing secret rotation failed');
    await vi.advanceTimersByTimeAsync(ROTATION_CHECK_INTERVAL_MS);
    await failed;
    expect(warn).toEqual(['signing secret rotation failed: store is closed']);
    m.stopTimer();
  });

  it('unrefs its interval so it never keeps the process alive', async () => {
    const { load } = setup();
    const m = await load();
    const spy = vi.spyOn(globalThis, 'setInterval');
    try {
      m.startTimer();
      const timer = spy.mock.results[0]?.value as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);
    } finally {
      m.stopTimer();
      spy.mockRestore();
    }
  });
});

describe('sealValue / unsealValue (TOTP seeds, issue 13)', () => {
  const open = (kek: Uint8Array) =>
    SecretManager.load({
      store: new MemoryStore(),
      kek,
      clock: new ManualClock(),
      rotationIntervalSeconds: INTERVAL,
      gracePeriodSeconds: GRACE,
    });

  it('seals under the KEK and opens only with it; refuses plaintext', async () => {
    const kek = newKek();
    const m = await open(kek);
    const blob = m.sealValue(enc.encode('JBSWY3DPEHPK3PXP'));
    expect(isSealed(blob)).toBe(true);
    expect(Buffer.from(blob).includes(Buffer.from('JBSWY3DP'))).toBe(false);
    expect(dec.decode(unseal(kek, blob))).toBe('JBSWY3DPEHPK3PXP');
    expect(dec.decode(m.unsealValue(blob))).toBe('JBSWY3DPEHPK3PXP');
    expect(() => m.unsealValue(enc.encode('JBSWY3DPEHPK3PXP'))).toThrow(SecretsError);
    const other = await open(newKek());
    expect(() => other.unsealValue(blob)).toThrow(SecretsError);
  });
});
