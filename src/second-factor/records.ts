import { createHash } from 'node:crypto';
import { decodeJson, delOp, getJson, putOp, scanIndexIds, type BatchOp, type Store } from '../storage/store.js';

/**
 * The stored side of passkeys and second factors (issue 13), all through the Store interface so
 * every backend (memory, LevelDB, PostgreSQL) holds them the same way. Key space:
 *
 * | Key | Value |
 * |---|---|
 * | `passkey:<credential_id>` | PasskeyRecord (credential id: base64url, no `:`) |
 * | `idx:user_passkeys:<username>:<credential_id>` | empty: the account's credentials |
 * | `mfa:<username>` | SecondFactorRecord: policy, sealed TOTP seed, recovery-code hashes |
 * | `system:webauthn:challenge:<attempt_id>` | ChallengeRecord, until used or swept |
 * | `system:webauthn:used:<attempt_id>` | `{"expires_at"}`: the challenge was taken (single use) |
 * | `system:totp:used:<username>:<step>` | `{"expires_at"}`: that TOTP step was accepted once |
 *
 * Each record names the root key id of the account it was made for. A username re-provisioned
 * onto a new key (the old one revoked) starts clean: records of another key id read as absent.
 */

export type SecondFactor = 'none' | 'passkey' | 'totp';
export const SECOND_FACTORS: readonly SecondFactor[] = ['none', 'passkey', 'totp'];

export interface PasskeyRecord {
  credential_id: string;
  username: string;
  key_id: string;
  /** The COSE public key, base64url. */
  public_key: string;
  /** The authenticator's signature counter after the last accepted use (0: it keeps none). */
  counter: number;
  transports: string[];
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

export interface TotpSeed {
  /** The base32 seed, sealed (secrets/seal.ts) and base64-encoded. */
  sealed: string;
  created_at: number;
}

export interface SecondFactorRecord {
  key_id: string;
  second_factor: SecondFactor;
  /** The confirmed seed (TOTP enrolled), or null. */
  totp: TotpSeed | null;
  /** A seed shown for enrolment, not yet confirmed with a code. */
  totp_pending: TotpSeed | null;
  /** SHA-256 (hex) of each unused recovery code. */
  recovery_codes: string[];
  updated_at: number;
}

export interface ChallengeRecord {
  purpose: 'register' | 'login';
  /** base64url, as it appears in clientDataJSON. */
  challenge: string;
  /** Registration: the account; login: the username the client named, or null (discoverable). */
  username: string | null;
  key_id: string | null;
  expires_at: number;
}

export type TakeChallenge =
  | { ok: true; record: ChallengeRecord }
  | { ok: false; reason: 'unknown' | 'expired' | 'used' | 'purpose' };

export const passkeyKey = (credentialId: string): string => `passkey:${credentialId}`;
const passkeyIndexPrefix = (username: string): string => `idx:user_passkeys:${username}:`;
export const secondFactorKey = (username: string): string => `mfa:${username}`;
const challengeKey = (attemptId: string): string => `system:webauthn:challenge:${attemptId}`;
const usedChallengeKey = (attemptId: string): string => `system:webauthn:used:${attemptId}`;
const usedStepKey = (username: string, step: number): string => `system:totp:used:${username}:${step}`;

const EMPTY = new Uint8Array(0);

/** Recovery codes are random and high-entropy, so one SHA-256 is enough to keep them unreadable. */
export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(normaliseRecoveryCode(code)).digest('hex');
}

/** Case, spaces and dashes do not matter when a code is typed back. */
export function normaliseRecoveryCode(code: string): string {
  return code.replace(/[\s-]/g, '').toLowerCase();
}

export function emptySecondFactor(keyId: string, now: number): SecondFactorRecord {
  return { key_id: keyId, second_factor: 'none', totp: null, totp_pending: null, recovery_codes: [], updated_at: now };
}

export class SecondFactorStore {
  constructor(private readonly store: Store) {}

  // ── policy ──────────────────────────────────────────────────────────────────────────────────

  /** The account's record, or undefined when it has none for this key id. */
  async policy(username: string, keyId: string): Promise<SecondFactorRecord | undefined> {
    const rec = await getJson<SecondFactorRecord>(this.store, secondFactorKey(username));
    return rec?.key_id === keyId ? rec : undefined;
  }

  policyOp(username: string, rec: SecondFactorRecord): BatchOp {
    return putOp(secondFactorKey(username), {
      key_id: rec.key_id,
      second_factor: rec.second_factor,
      totp: rec.totp,
      totp_pending: rec.totp_pending,
      recovery_codes: rec.recovery_codes,
      updated_at: rec.updated_at,
    });
  }

  // ── passkeys ────────────────────────────────────────────────────────────────────────────────

  getPasskey(credentialId: string): Promise<PasskeyRecord | undefined> {
    return getJson<PasskeyRecord>(this.store, passkeyKey(credentialId));
  }

  /** The account's credentials (of this key id), oldest first. */
  async passkeys(username: string, keyId: string): Promise<PasskeyRecord[]> {
    const ids = await scanIndexIds(this.store, passkeyIndexPrefix(username));
    const out: PasskeyRecord[] = [];
    for (const id of ids) {
      const rec = await this.getPasskey(id);
      if (rec !== undefined && rec.key_id === keyId && rec.username === username) out.push(rec);
    }
    return out.sort((a, b) => a.created_at - b.created_at || a.credential_id.localeCompare(b.credential_id));
  }

  /** Writes (or updates) a credential and its index entry. */
  passkeyOps(rec: PasskeyRecord): BatchOp[] {
    return [
      putOp(passkeyKey(rec.credential_id), {
        credential_id: rec.credential_id,
        username: rec.username,
        key_id: rec.key_id,
        public_key: rec.public_key,
        counter: rec.counter,
        transports: rec.transports,
        device_type: rec.device_type,
        backed_up: rec.backed_up,
        name: rec.name,
        created_at: rec.created_at,
        last_used_at: rec.last_used_at,
      }),
      { type: 'put', key: `${passkeyIndexPrefix(rec.username)}${rec.credential_id}`, value: EMPTY },
    ];
  }

  deletePasskeyOps(rec: PasskeyRecord): BatchOp[] {
    return [delOp(passkeyKey(rec.credential_id)), delOp(`${passkeyIndexPrefix(rec.username)}${rec.credential_id}`)];
  }

  /**
   * Ops deleting the records of account `username` made for root key `keyId` (the key is being
   * revoked): its passkeys with their index entries, and its policy record. Records of another
   * key id under the same username are left alone.
   */
  async keyOps(username: string, keyId: string): Promise<BatchOp[]> {
    const ops: BatchOp[] = [];
    if ((await this.policy(username, keyId)) !== undefined) ops.push(delOp(secondFactorKey(username)));
    for (const rec of await this.passkeys(username, keyId)) ops.push(...this.deletePasskeyOps(rec));
    return ops;
  }

  /** Every record of one username (recovery: `set-admin --reset-second-factor`). */
  async resetOps(username: string): Promise<BatchOp[]> {
    const ops: BatchOp[] = [delOp(secondFactorKey(username))];
    for (const id of await scanIndexIds(this.store, passkeyIndexPrefix(username))) {
      ops.push(delOp(passkeyKey(id)), delOp(`${passkeyIndexPrefix(username)}${id}`));
    }
    return ops;
  }

  // ── challenges ──────────────────────────────────────────────────────────────────────────────

  async putChallenge(attemptId: string, rec: ChallengeRecord): Promise<void> {
    await this.store.batch([putOp(challengeKey(attemptId), rec)]);
  }

  /**
   * Takes a challenge for one ceremony: of any number of concurrent takers exactly one gets it
   * (the used marker is an atomic set-if-absent that also deletes the challenge). An expired
   * challenge is deleted and refused; a taken one stays refused until the sweep.
   */
  async takeChallenge(attemptId: string, purpose: ChallengeRecord['purpose'], now: number): Promise<TakeChallenge> {
    const rec = await getJson<ChallengeRecord>(this.store, challengeKey(attemptId));
    if (rec === undefined) {
      return { ok: false, reason: (await this.store.has(usedChallengeKey(attemptId))) ? 'used' : 'unknown' };
    }
    const won = await this.store.putIfAbsent(usedChallengeKey(attemptId), encodeExpiry(rec.expires_at), [
      delOp(challengeKey(attemptId)),
    ]);
    if (!won) return { ok: false, reason: 'used' };
    if (rec.purpose !== purpose) return { ok: false, reason: 'purpose' };
    if (now >= rec.expires_at) return { ok: false, reason: 'expired' };
    return { ok: true, record: rec };
  }

  // ── TOTP replay ─────────────────────────────────────────────────────────────────────────────

  /** True the first time a step is accepted for the account, false on every replay. */
  markTotpStep(username: string, step: number, expiresAt: number): Promise<boolean> {
    return this.store.putIfAbsent(usedStepKey(username, step), encodeExpiry(expiresAt));
  }

  // ── sweep ───────────────────────────────────────────────────────────────────────────────────

  /** Deletes challenges, used-challenge markers and used-step markers past their expiry. */
  async sweep(now: number): Promise<number> {
    let n = 0;
    for (const prefix of ['system:webauthn:challenge:', 'system:webauthn:used:', 'system:totp:used:']) {
      const dead: BatchOp[] = [];
      for await (const [key, value] of this.store.iterate(prefix)) {
        let expiresAt: unknown;
        try {
          expiresAt = decodeJson<{ expires_at?: unknown }>(value).expires_at;
        } catch {
          expiresAt = 0;
        }
        if (typeof expiresAt !== 'number' || expiresAt <= now) dead.push(delOp(key));
      }
      for (let i = 0; i < dead.length; i += 500) await this.store.batch(dead.slice(i, i + 500));
      n += dead.length;
    }
    return n;
  }
}

function encodeExpiry(expiresAt: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ expires_at: expiresAt }));
}
