import type { Core } from '../core.js';
import { AuthError } from '../errors.js';
import { nowSeconds } from '../util/clock.js';
import type { AccountRef } from './account.js';
import { passkeyView, type PasskeyView } from './passkeys.js';
import { emptySecondFactor, type SecondFactor, type SecondFactorRecord } from './records.js';
import { checkTotpLogin, newRecoveryCodes, spendRecoveryCode } from './totp.js';

/**
 * The per-account second-factor policy (issue 13): `none` (password alone, as before), `passkey`
 * (a password sign-in must continue with a passkey) or `totp` (it must carry a TOTP code or a
 * recovery code). A passkey sign-in satisfies every policy: it proves possession and, with
 * required user verification, a PIN or biometric.
 */

/** The needed factor is missing: a password login answers the step-up error. */
export class SecondFactorRequired extends Error {
  override readonly name = 'SecondFactorRequired';
  constructor(readonly factor: 'passkey' | 'totp') {
    super(
      factor === 'totp'
        ? 'Second factor required: totp. Send the password again with provider_data.totp_code (or provider_data.recovery_code)'
        : 'Second factor required: passkey. Sign in with a passkey (auth_method "passkey"), or send the password again with provider_data.recovery_code',
    );
  }
}

/** A second factor was sent and is wrong, replayed or spent. */
export class SecondFactorRefused extends Error {
  override readonly name = 'SecondFactorRefused';
}

const stringField = (data: unknown, name: string): string | undefined => {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const v = (data as Record<string, unknown>)[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

/**
 * Runs the check of a code (TOTP or recovery) that was sent: the caller's per-account failure
 * limit wraps it, refusing before the code is looked at when the account's bucket is full and
 * counting a SecondFactorRefused as a failure (src/auth/login.ts).
 */
export type CodeGuard = (check: () => Promise<void>) => Promise<void>;

const unguarded: CodeGuard = (check) => check();

/**
 * After a correct password: nothing to do for `none`; otherwise the factor carried in
 * `provider_data` (`totp_code`, `recovery_code`) must check out, or the step-up error is thrown.
 */
export async function requireSecondFactor(
  core: Core,
  account: AccountRef,
  providerData: unknown,
  guard: CodeGuard = unguarded,
): Promise<void> {
  const rec = await core.secondFactors.policy(account.username, account.keyId);
  if (rec === undefined || rec.second_factor === 'none') return;
  const recovery = stringField(providerData, 'recovery_code');
  const code = stringField(providerData, 'totp_code');
  if (recovery === undefined && (rec.second_factor !== 'totp' || code === undefined)) {
    throw new SecondFactorRequired(rec.second_factor);
  }
  await guard(() => checkCode(core, account, rec, recovery, code));
}

async function checkCode(
  core: Core,
  account: AccountRef,
  rec: SecondFactorRecord,
  recovery: string | undefined,
  code: string | undefined,
): Promise<void> {
  if (recovery !== undefined) {
    if (await spendRecoveryCode(core, account.username, account.keyId, recovery)) {
      core.log.warn({ user: account.username.slice(0, 32) }, 'sign-in with a recovery code');
      return;
    }
    throw new SecondFactorRefused('Recovery code not valid (each code works once)');
  }
  // Without a recovery code the caller made sure the policy is totp and a code was sent.
  const check = await checkTotpLogin(core, account.username, rec, code ?? '');
  if (check === 'ok') return;
  throw new SecondFactorRefused(check === 'replayed' ? 'This code was already used: wait for the next one' : 'Wrong TOTP code');
}

export interface SecondFactorStatus {
  /** The account's username (a passkey sign-in does not name it). */
  username: string;
  second_factor: SecondFactor;
  totp_enrolled: boolean;
  recovery_codes_left: number;
  passkeys: PasskeyView[];
  passkeys_enabled: boolean;
}

export async function secondFactorStatus(core: Core, account: AccountRef): Promise<SecondFactorStatus> {
  const rec = await core.secondFactors.policy(account.username, account.keyId);
  const passkeys = await core.secondFactors.passkeys(account.username, account.keyId);
  return {
    username: account.username,
    second_factor: rec?.second_factor ?? 'none',
    totp_enrolled: rec?.totp != null,
    recovery_codes_left: rec?.recovery_codes.length ?? 0,
    passkeys: passkeys.map(passkeyView),
    passkeys_enabled: core.config.providers.passkey.enabled,
  };
}

/**
 * Sets the policy. `passkey` needs a registered passkey (and the provider on), `totp` a confirmed
 * enrolment. Turning a factor on hands out fresh recovery codes when none are left; `none` drops
 * the TOTP seed and the recovery codes (passkeys stay: they still sign in on their own).
 */
export async function setSecondFactor(
  core: Core,
  account: AccountRef,
  wanted: SecondFactor,
): Promise<{ second_factor: SecondFactor; recovery_codes: string[] }> {
  return core.accountLock.run(async () => {
    const now = nowSeconds(core.clock);
    const rec = (await core.secondFactors.policy(account.username, account.keyId)) ?? emptySecondFactor(account.keyId, now);
    if (wanted === 'passkey') {
      if (!core.config.providers.passkey.enabled) throw new AuthError('bad_request', 'Passkeys are not enabled on this node');
      if ((await core.secondFactors.passkeys(account.username, account.keyId)).length === 0) {
        throw new AuthError('bad_request', 'Register a passkey first');
      }
    }
    if (wanted === 'totp' && rec.totp === null) throw new AuthError('bad_request', 'Enrol TOTP first (POST /admin/totp)');
    let codes: string[] = [];
    let next = { ...rec, second_factor: wanted, updated_at: now };
    if (wanted === 'none') next = { ...next, totp: null, totp_pending: null, recovery_codes: [] };
    else if (rec.recovery_codes.length === 0) {
      const fresh = newRecoveryCodes();
      codes = fresh.codes;
      next = { ...next, recovery_codes: fresh.hashes };
    }
    await core.store.batch([core.secondFactors.policyOp(account.username, next)]);
    return { second_factor: wanted, recovery_codes: codes };
  });
}

/** Removes one of the account's passkeys; the last one cannot go while the policy needs it. */
export async function deletePasskey(core: Core, account: AccountRef, credentialId: string): Promise<void> {
  await core.accountLock.run(async () => {
    const rec = await core.secondFactors.getPasskey(credentialId);
    if (rec === undefined || rec.username !== account.username || rec.key_id !== account.keyId) {
      throw new AuthError('not_found', 'Passkey not found');
    }
    const policy = await core.secondFactors.policy(account.username, account.keyId);
    const all = await core.secondFactors.passkeys(account.username, account.keyId);
    if (policy?.second_factor === 'passkey' && all.length === 1) {
      throw new AuthError('bad_request', 'This is the last passkey and the account requires one: change second_factor first');
    }
    await core.store.batch(core.secondFactors.deletePasskeyOps(rec));
  });
}
