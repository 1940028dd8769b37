import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SecondFactorStore,
  emptySecondFactor,
  hashRecoveryCode,
  type ChallengeRecord,
  type PasskeyRecord,
} from '../../src/second-factor/records.js';
import { CachingStore } from '../../src/storage/cache.js';
import { LevelStore } from '../../src/storage/level.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { PostgresStore } from '../../src/storage/postgres.js';
import { createDatabase, describeWithPostgres, pgOptions, sharedPgUrl } from '../helpers/postgres.js';
import { passkeyRecord } from '../helpers/second-factor.js';
import type { StoreHandle } from './contract.js';

const passkey = passkeyRecord;

const challenge = (over: Partial<ChallengeRecord> = {}): ChallengeRecord => ({
  purpose: 'login',
  challenge: 'Y2hhbGxlbmdl',
  username: null,
  key_id: null,
  expires_at: 1000,
  ...over,
});

/** The records of issue 13 behave the same on every backend. */
function runSecondFactorContract(name: string, make: () => Promise<StoreHandle>): void {
  describe(`Second-factor records: ${name}`, () => {
    let handle: StoreHandle;
    let records: SecondFactorStore;
    beforeEach(async () => {
      handle = await make();
      records = new SecondFactorStore(handle.store);
    });
    afterEach(async () => {
      await handle.store.close();
      await handle.cleanup();
    });

    it('stores passkeys per account, lists them oldest first, ignores other key ids and other users', async () => {
      await handle.store.batch([
        ...records.passkeyOps(passkey({ credential_id: 'b', created_at: 200 })),
        ...records.passkeyOps(passkey({ credential_id: 'a', created_at: 100 })),
        ...records.passkeyOps(passkey({ credential_id: 'old', key_id: 'k0' })),
        ...records.passkeyOps(passkey({ credential_id: 'c', username: 'admin:x' })),
      ]);
      expect((await records.passkeys('admin', 'k1')).map((p) => p.credential_id)).toEqual(['a', 'b']);
      expect((await records.passkeys('admin:x', 'k1')).map((p) => p.credential_id)).toEqual(['c']);
      expect(await records.getPasskey('b')).toEqual(passkey({ credential_id: 'b', created_at: 200 }));
      const b = (await records.getPasskey('b')) as PasskeyRecord;
      await handle.store.batch(records.passkeyOps({ ...b, counter: 9, last_used_at: 500 }));
      expect((await records.getPasskey('b'))?.counter).toBe(9);
      await handle.store.batch(records.deletePasskeyOps(b));
      expect(await records.getPasskey('b')).toBeUndefined();
      expect((await records.passkeys('admin', 'k1')).map((p) => p.credential_id)).toEqual(['a']);
    });

    it('keeps a policy per account and key id', async () => {
      expect(await records.policy('admin', 'k1')).toBeUndefined();
      const rec = {
        ...emptySecondFactor('k1', 5),
        second_factor: 'totp' as const,
        totp: { sealed: 'AAAA', created_at: 5 },
        recovery_codes: [hashRecoveryCode('abcd-efgh')],
      };
      await handle.store.batch([records.policyOp('admin', rec)]);
      expect(await records.policy('admin', 'k1')).toEqual(rec);
      expect(await records.policy('admin', 'k2')).toBeUndefined();
      expect(hashRecoveryCode('ABCD EFGH')).toBe(rec.recovery_codes[0]);
    });

    it('a challenge is taken once: used, expired, unknown and wrong-purpose takes are refused', async () => {
      await records.putChallenge('att1', challenge());
      expect(await records.takeChallenge('att1', 'login', 999)).toEqual({ ok: true, record: challenge() });
      expect(await records.takeChallenge('att1', 'login', 999)).toEqual({ ok: false, reason: 'used' });
      expect(await records.takeChallenge('nope', 'login', 999)).toEqual({ ok: false, reason: 'unknown' });
      await records.putChallenge('att2', challenge());
      expect(await records.takeChallenge('att2', 'login', 1000)).toEqual({ ok: false, reason: 'expired' });
      await records.putChallenge('att3', challenge({ purpose: 'register' }));
      expect(await records.takeChallenge('att3', 'login', 1)).toEqual({ ok: false, reason: 'purpose' });
    });

    it('of concurrent takers of one challenge exactly one wins', async () => {
      await records.putChallenge('race', challenge());
      const results = await Promise.all(Array.from({ length: 8 }, () => records.takeChallenge('race', 'login', 1)));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
    });

    it('a TOTP step is accepted once per account, and the sweep removes what expired', async () => {
      expect(await records.markTotpStep('admin', 42, 2000)).toBe(true);
      expect(await records.markTotpStep('admin', 42, 2000)).toBe(false);
      expect(await records.markTotpStep('other', 42, 2000)).toBe(true);
      await records.putChallenge('live', challenge({ expires_at: 3000 }));
      await records.putChallenge('dead', challenge({ expires_at: 1000 }));
      expect(await records.sweep(1500)).toBe(1);
      expect(await records.sweep(2500)).toBe(2);
      expect(await records.markTotpStep('admin', 42, 4000)).toBe(true);
      expect((await records.takeChallenge('live', 'login', 2500)).ok).toBe(true);
    });

    it('reset removes the policy and every passkey of one username only', async () => {
      await handle.store.batch([
        records.policyOp('admin', emptySecondFactor('k1', 1)),
        ...records.passkeyOps(passkey({ credential_id: 'a' })),
        ...records.passkeyOps(passkey({ credential_id: 'z', username: 'bob' })),
      ]);
      await handle.store.batch(await records.resetOps('admin'));
      expect(await records.policy('admin', 'k1')).toBeUndefined();
      expect(await records.getPasskey('a')).toBeUndefined();
      expect(await handle.store.scan('idx:user_passkeys:admin:')).toEqual([]);
      expect(await records.getPasskey('z')).toBeDefined();
    });
  });
}

runSecondFactorContract('memory', async () => ({ store: new MemoryStore(), cleanup: async () => undefined }));

runSecondFactorContract('cached level', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mero-auth-2fa-'));
  const store = new CachingStore(await LevelStore.open(join(dir, 'db')), ['']);
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describeWithPostgres('PostgreSQL second-factor records', () => {
  runSecondFactorContract('postgres', async () => {
    const store = await PostgresStore.open(pgOptions(await createDatabase(sharedPgUrl(), 'mfa')));
    return { store, cleanup: async () => undefined };
  });
});
