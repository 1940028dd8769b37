import { webcrypto } from 'node:crypto';
import { nowSeconds, type Clock } from '../util/clock.js';
import type { BatchOp, Store } from '../storage/store.js';
import { SecretsError } from './errors.js';
import { generateSecretValue } from './generate.js';
import { BACKUP_KEY, PRIMARY_KEY, newRecord, openRecord, sealRecord, type OpenedRecord, type SecretRecord } from './record.js';
import { seal } from './seal.js';

export type CryptoKey = webcrypto.CryptoKey;

/** How often the running service checks whether the primary is due for rotation (wire §4.8). */
export const ROTATION_CHECK_INTERVAL_MS = 3_600_000;

export interface SecretLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface SecretManagerOptions {
  store: Store;
  /** 32 bytes, from `resolveKek`. */
  kek: Uint8Array;
  clock: Clock;
  rotationIntervalSeconds: number;
  gracePeriodSeconds: number;
  log?: SecretLog;
}

interface LoadedSecret {
  readonly record: SecretRecord;
  readonly key: CryptoKey;
}

const encoder = new TextEncoder();

/** The HMAC key is the UTF-8 of the secret's text (wire §4.1); imported once per secret. */
function importHmacKey(value: string): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('raw', encoder.encode(value), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

async function loadSecret(opened: OpenedRecord): Promise<LoadedSecret> {
  return { record: opened.record, key: await importHmacKey(opened.record.value) };
}

/**
 * Owns the signing secrets: creates the first one, caches primary and backup with their imported
 * keys, and rotates. Rotation runs in the store's `secrets` section and starts from the stored
 * records, so of several instances sharing a store one rotation wins and the others adopt it;
 * they also `reload()` when the change feed reports the records changed.
 */
export class SecretManager {
  private readonly store: Store;
  private readonly kek: Uint8Array;
  private readonly clock: Clock;
  private readonly rotationIntervalSeconds: number;
  private readonly gracePeriodSeconds: number;
  private readonly log: SecretLog | undefined;
  private timer: NodeJS.Timeout | undefined;

  private primary!: LoadedSecret;
  // Precomputed verify sets, so the per-request call only compares two numbers.
  private primaryOnly!: readonly CryptoKey[];
  private withBackup: readonly CryptoKey[] | undefined;
  private backupExpiresAt = -1;
  private backupValue: string | undefined;

  private constructor(opts: SecretManagerOptions) {
    this.store = opts.store;
    this.kek = opts.kek.slice();
    this.clock = opts.clock;
    this.rotationIntervalSeconds = opts.rotationIntervalSeconds;
    this.gracePeriodSeconds = opts.gracePeriodSeconds;
    this.log = opts.log;
  }

  /**
   * Reads (or creates) the primary, reads the backup, re-seals legacy plaintext records, and
   * rotates when due. Throws `SecretsError` when a record cannot be unsealed or is malformed.
   */
  static async load(opts: SecretManagerOptions): Promise<SecretManager> {
    if (opts.kek.length !== 32) {
      throw new SecretsError(`key-encryption key must be 32 bytes, got ${opts.kek.length}`);
    }
    const m = new SecretManager(opts);
    const legacy: BatchOp[] = [];

    let primary = await m.read(PRIMARY_KEY);
    if (primary === undefined) {
      const record = newRecord(generateSecretValue(), nowSeconds(m.clock), m.gracePeriodSeconds);
      if (await m.store.putIfAbsent(PRIMARY_KEY, sealRecord(m.kek, record))) {
        m.log?.info(`signing secret created (version ${record.version})`);
        primary = { record, plaintext: encoder.encode(JSON.stringify(record)), sealed: true };
      } else {
        // Another loader on this store won the race; adopt its secret.
        primary = await m.read(PRIMARY_KEY);
        if (primary === undefined) {
          throw new SecretsError(`signing secret ${PRIMARY_KEY} vanished while loading`);
        }
      }
    }
    if (!primary.sealed) {
      legacy.push({ type: 'put', key: PRIMARY_KEY, value: seal(m.kek, primary.plaintext) });
    }

    const backup = await m.read(BACKUP_KEY);
    if (backup !== undefined && !backup.sealed) {
      legacy.push({ type: 'put', key: BACKUP_KEY, value: seal(m.kek, backup.plaintext) });
    }

    m.install(await loadSecret(primary), backup === undefined ? undefined : await loadSecret(backup));

    // Secrets are always sealed at rest: seal what an older version left in plaintext.
    if (legacy.length > 0) {
      await m.store.batch(legacy);
      m.log?.info('sealed legacy plaintext signing secrets');
    }
    await m.rotateIfDue();
    return m;
  }

  /** The key that signs every new token. */
  signingKey(): CryptoKey {
    return this.primary.key;
  }

  /**
   * The verify set, primary first: the backup joins while `now ≤ backup.expires_at` and when it
   * differs from the primary. Hot path: returns cached arrays, allocates nothing.
   */
  verifyKeys(): readonly CryptoKey[] {
    const pair = this.withBackup;
    if (pair !== undefined && nowSeconds(this.clock) <= this.backupExpiresAt) return pair;
    return this.primaryOnly;
  }

  /**
   * Rotates when `now − primary.created_at ≥ rotation interval`: a fresh primary, the old primary
   * becomes the backup (its `expires_at` kept), the older backup is overwritten, in one durable
   * batch. Returns whether it rotated.
   */
  rotateIfDue(): Promise<boolean> {
    return this.store.exclusive('secrets', async () => {
      const now = nowSeconds(this.clock);
      if (now - this.primary.record.created_at < this.rotationIntervalSeconds) return false;
      // Another instance may have rotated already: start from what is stored.
      if (this.store.feed !== undefined) await this.reloadRecords();
      const old = this.primary;
      if (now - old.record.created_at < this.rotationIntervalSeconds) return false;

      const record = newRecord(generateSecretValue(), now, this.gracePeriodSeconds);
      const demoted: SecretRecord = { ...old.record, is_primary: false };
      const fresh: LoadedSecret = { record, key: await importHmacKey(record.value) };
      await this.store.batch([
        { type: 'put', key: PRIMARY_KEY, value: sealRecord(this.kek, record) },
        { type: 'put', key: BACKUP_KEY, value: sealRecord(this.kek, demoted) },
      ]);
      // Only once the batch is durable: the cache never gets ahead of the store.
      this.install(fresh, { record: demoted, key: old.key });
      this.log?.info(
        `signing secret rotated (version ${record.version}; ${old.record.version} verifies until ${demoted.expires_at})`,
      );
      return true;
    });
  }

  /**
   * Reads primary and backup from the store again (another instance rotated). Keeps the current
   * keys when the records are unchanged, so the hot path's arrays stay the same objects.
   */
  reload(): Promise<void> {
    return this.store.exclusive('secrets', () => this.reloadRecords());
  }

  private async reloadRecords(): Promise<void> {
    const primary = await this.read(PRIMARY_KEY);
    if (primary === undefined) throw new SecretsError(`signing secret ${PRIMARY_KEY} is missing from the store`);
    const backup = await this.read(BACKUP_KEY);
    const sameBackup = (backup?.record.value ?? null) === (this.backupValue ?? null);
    if (primary.record.value === this.primary.record.value && sameBackup) return;
    this.install(await loadSecret(primary), backup === undefined ? undefined : await loadSecret(backup));
    this.log?.info(`signing secrets reloaded from the store (primary version ${primary.record.version})`);
  }

  /** Checks rotation every hour; the interval does not keep the process alive. */
  startTimer(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.rotateIfDue().catch((e: unknown) => {
        this.log?.warn(`signing secret rotation failed: ${e instanceof Error ? e.message : String(e)}`);
      });
    }, ROTATION_CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  stopTimer(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async read(key: string): Promise<OpenedRecord | undefined> {
    const blob = await this.store.get(key);
    return blob === undefined ? undefined : openRecord(this.kek, key, blob);
  }

  private install(primary: LoadedSecret, backup: LoadedSecret | undefined): void {
    this.primary = primary;
    this.backupValue = backup?.record.value;
    this.primaryOnly = Object.freeze([primary.key]);
    if (backup !== undefined && backup.record.value !== primary.record.value) {
      this.withBackup = Object.freeze([primary.key, backup.key]);
      this.backupExpiresAt = backup.record.expires_at;
    } else {
      this.withBackup = undefined;
      this.backupExpiresAt = -1;
    }
  }
}
