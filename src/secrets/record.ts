import { SecretsError } from './errors.js';
import { seal, unseal, isSealed } from './seal.js';

export const PRIMARY_KEY = 'system:secrets:jwt_auth';
export const BACKUP_KEY = 'system:secrets:jwt_auth_backup';

/** The stored secret record; field order is the serialisation order (wire §4.8). */
export interface SecretRecord {
  value: string;
  version: string;
  created_at: number;
  expires_at: number;
  is_primary: boolean;
  secret_type: string;
}

export function newRecord(value: string, now: number, gracePeriodSeconds: number, secretType = 'JwtAuth'): SecretRecord {
  return {
    value,
    version: `v${now}`,
    created_at: now,
    expires_at: now + gracePeriodSeconds,
    is_primary: true,
    secret_type: secretType,
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function sealRecord(kek: Uint8Array, record: SecretRecord): Uint8Array {
  return seal(kek, encoder.encode(JSON.stringify(record)));
}

export interface OpenedRecord {
  record: SecretRecord;
  /** The JSON bytes as read; kept so a legacy plaintext record can be re-sealed unchanged. */
  plaintext: Uint8Array;
  sealed: boolean;
}

/** Unseals (or reads legacy plaintext) and checks the shape; `storeKey` only names it in errors. */
export function openRecord(kek: Uint8Array, storeKey: string, blob: Uint8Array): OpenedRecord {
  const plaintext = unseal(kek, blob);
  const bad = (detail: string, cause?: unknown): SecretsError =>
    new SecretsError(`cannot read the signing secret ${storeKey}: ${detail}`, { cause });
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(plaintext));
  } catch (e) {
    throw bad('not a JSON record', e);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw bad('not a JSON object');
  }
  const r = parsed as Record<string, unknown>;
  // Rust's serde struct requires all six fields too.
  if (typeof r.value !== 'string' || r.value === '') throw bad('"value" must be a non-empty string');
  if (typeof r.version !== 'string') throw bad('"version" must be a string');
  if (!isTimestamp(r.created_at)) throw bad('"created_at" must be a non-negative integer');
  if (!isTimestamp(r.expires_at)) throw bad('"expires_at" must be a non-negative integer');
  if (typeof r.is_primary !== 'boolean') throw bad('"is_primary" must be a boolean');
  if (typeof r.secret_type !== 'string') throw bad('"secret_type" must be a string');
  return { record: r as unknown as SecretRecord, plaintext, sealed: isSealed(blob) };
}

function isTimestamp(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
