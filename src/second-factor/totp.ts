import { randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import type { Core } from '../core.js';
import { AuthError } from '../errors.js';
import { nowSeconds } from '../util/clock.js';
import type { AccountRef } from './account.js';
import { emptySecondFactor, hashRecoveryCode, type SecondFactorRecord, type TotpSeed } from './records.js';

/**
 * TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps, ±1 step of clock skew) with otpauth, and the
 * recovery codes that go with a required second factor. Seeds are sealed at rest under the KEK
 * (SecretManager.sealValue); recovery codes are stored as SHA-256 hashes; an accepted step is
 * marked per account with an atomic set-if-absent, so a code cannot be replayed in its window.
 */

const PERIOD = 30;
const WINDOW = 1;
const RECOVERY_CODES = 10;

const enc = new TextEncoder();
const dec = new TextDecoder();

function totpFor(core: Core, username: string, base32: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    issuer: core.config.second_factor.totp_issuer,
    label: username,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD,
    secret: OTPAuth.Secret.fromBase32(base32),
  });
}

const sealSeed = (core: Core, base32: string, now: number): TotpSeed => ({
  sealed: Buffer.from(core.secrets.sealValue(enc.encode(base32))).toString('base64'),
  created_at: now,
});

const openSeed = (core: Core, seed: TotpSeed): string =>
  dec.decode(core.secrets.unsealValue(new Uint8Array(Buffer.from(seed.sealed, 'base64'))));

export interface TotpEnrolment {
  /** The seed in base32, for typing into an app by hand. */
  secret: string;
  otpauth_uri: string;
  /** The otpauth URI as a QR code: an SVG `data:` URL (the page's CSP allows `img-src data:`). */
  qr_svg: string;
}

/** Starts (or restarts) enrolment: a new seed, pending until a code from it is confirmed. */
export async function startTotpEnrolment(core: Core, account: AccountRef): Promise<TotpEnrolment> {
  const now = nowSeconds(core.clock);
  const secret = new OTPAuth.Secret({ size: 20 }).base32;
  const totp = totpFor(core, account.username, secret);
  const uri = totp.toString();
  // Loaded on first enrolment, not at start (issue 11: memory).
  const { default: QRCode } = await import('qrcode');
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  await core.accountLock.run(async () => {
    const rec = (await core.secondFactors.policy(account.username, account.keyId)) ?? emptySecondFactor(account.keyId, now);
    await core.store.batch([
      core.secondFactors.policyOp(account.username, { ...rec, totp_pending: sealSeed(core, secret, now), updated_at: now }),
    ]);
  });
  return { secret, otpauth_uri: uri, qr_svg: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
}

export type TotpCheck = 'ok' | 'invalid' | 'replayed';

/** A code against a seed: valid in the current step ±1, and not accepted before for the account. */
async function checkCode(core: Core, username: string, base32: string, code: string): Promise<TotpCheck> {
  const token = code.replace(/\s/g, '');
  if (!/^\d{6}$/.test(token)) return 'invalid';
  const nowMs = core.clock.nowMs();
  const delta = totpFor(core, username, base32).validate({ token, timestamp: nowMs, window: WINDOW });
  if (delta === null) return 'invalid';
  const step = Math.floor(nowMs / 1000 / PERIOD) + delta;
  // The marker outlives the step's acceptance window, then the sweep removes it.
  const expiresAt = (step + WINDOW + 2) * PERIOD;
  return (await core.secondFactors.markTotpStep(username, step, expiresAt)) ? 'ok' : 'replayed';
}

export function newRecoveryCodes(): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: RECOVERY_CODES }, () => {
    const raw = randomBytes(10).toString('hex'); // 80 bits
    return `${raw.slice(0, 5)}-${raw.slice(5, 10)}-${raw.slice(10, 15)}-${raw.slice(15)}`;
  });
  return { codes, hashes: codes.map(hashRecoveryCode) };
}

/**
 * Confirms the pending seed with a code from it: TOTP becomes the account's second factor (unless
 * it requires a passkey, which stays: a confirmation never weakens the policy), and fresh
 * recovery codes are returned (this once; only their hashes are kept).
 */
export async function confirmTotp(core: Core, account: AccountRef, code: string): Promise<{ recovery_codes: string[] }> {
  const now = nowSeconds(core.clock);
  const rec = await core.secondFactors.policy(account.username, account.keyId);
  if (rec?.totp_pending == null) throw new AuthError('bad_request', 'No TOTP enrolment in progress: start one first');
  const pending = rec.totp_pending;
  const check = await checkCode(core, account.username, openSeed(core, pending), code);
  if (check !== 'ok') {
    throw new AuthError('bad_request', check === 'replayed' ? 'This code was already used: wait for the next one' : 'Wrong code');
  }
  const { codes, hashes } = newRecoveryCodes();
  await core.accountLock.run(async () => {
    const current = await core.secondFactors.policy(account.username, account.keyId);
    if (current?.totp_pending?.sealed !== pending.sealed) {
      throw new AuthError('bad_request', 'The TOTP enrolment changed meanwhile: start again');
    }
    await core.store.batch([
      core.secondFactors.policyOp(account.username, {
        ...current,
        second_factor: current.second_factor === 'passkey' ? 'passkey' : 'totp',
        totp: pending,
        totp_pending: null,
        recovery_codes: hashes,
        updated_at: now,
      }),
    ]);
  });
  return { recovery_codes: codes };
}

/** A TOTP code at sign-in, against the account's confirmed seed. */
export async function checkTotpLogin(core: Core, username: string, rec: SecondFactorRecord, code: string): Promise<TotpCheck> {
  if (rec.totp === null) return 'invalid';
  return checkCode(core, username, openSeed(core, rec.totp), code);
}

/** Spends a recovery code: true once per code, under the account lock. */
export async function spendRecoveryCode(core: Core, username: string, keyId: string, code: string): Promise<boolean> {
  const hash = hashRecoveryCode(code);
  return core.accountLock.run(async () => {
    const rec = await core.secondFactors.policy(username, keyId);
    if (rec === undefined || !rec.recovery_codes.includes(hash)) return false;
    await core.store.batch([
      core.secondFactors.policyOp(username, {
        ...rec,
        recovery_codes: rec.recovery_codes.filter((h) => h !== hash),
        updated_at: nowSeconds(core.clock),
      }),
    ]);
    return true;
  });
}
