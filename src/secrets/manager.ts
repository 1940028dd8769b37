import type { webcrypto } from 'node:crypto';
import { nowSeconds, type Clock } from '../util/clock.js';
import type { BatchOp, Store } from '../storage/store.js';
import { SecretsError } from './errors.js';
import { newRecord, openRecord, sealRecord, type OpenedRecord, type SecretRecord } from './record.js';
import { signingScheme, type JwtAlgorithm, type PublicJwk, type SigningKeys, type SigningScheme } from './scheme.js';
import { isSealed, seal, unseal } from './seal.js';

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
  /** `jwt.algorithm`; default HS256 (the secrets Rust reads). A keypair has its own records. */
  algorithm?: JwtAlgorithm;
  log?: SecretLog;
}

interface LoadedSecret {
  readonly record: SecretRecord;
  readonly keys: SigningKeys;
}

const encoder = new TextEncoder();

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
  private readonly scheme: SigningScheme;
  /** The algorithm of every token signed and accepted (`jwt.algorithm`). */
  readonly algorithm: JwtAlgorithm;
  private timer: NodeJS.Timeout | undefined;

  private primary!: LoadedSecret;
  // Precomputed verify sets, so the per-request call only compares two numbers.
  private primaryOnly!: readonly CryptoKey[];
  private withBackup: readonly CryptoKey[] | undefined;
  private backupExpiresAt = -1;
  private backupValue: string | undefined;
  private kids = new Map<CryptoKey, string>();
  private jwksPrimaryOnly: readonly PublicJwk[] = [];
  private jwksWithBackup: readonly PublicJwk[] = [];

  private constructor(opts: SecretManagerOptions) {
    this.store = opts.store;
    this.kek = opts.kek.slice();
    this.clock = opts.clock;
    this.rotationIntervalSeconds = opts.rotationIntervalSeconds;
    this.gracePeriodSeconds = opts.gracePeriodSeconds;
    this.log = opts.log;
    this.scheme = signingScheme(opts.algorithm ?? 'HS256');
    this.algorithm = this.scheme.algorithm;
  }

  private async loadSecret(record: SecretRecord, storeKey: string): Promise<LoadedSecret> {
    return { record, keys: await this.scheme.load(record.value, storeKey) };
  }

  private async newSecret(now: number): Promise<SecretRecord> {
    return newRecord(await this.scheme.generate(), now, this.gracePeriodSeconds, this.scheme.secretType);
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
    const { primaryKey, backupKey } = m.scheme;
    const legacy: BatchOp[] = [];

    let primary = await m.read(primaryKey);
    if (primary === undefined) {
      const record = await m.newSecret(nowSeconds(m.clock));
      if (await m.store.putIfAbsent(primaryKey, sealRecord(m.kek, record))) {
        m.log?.info(`signing ${m.kindName()} created (version ${record.version})`);
        primary = { record, plaintext: encoder.encode(JSON.stringify(record)), sealed: true };
      } else {
        // Another loader on this store won the race; adopt its secret.
        primary = await m.read(primaryKey);
        if (primary === undefined) {
          throw new SecretsError(`signing secret ${primaryKey} vanished while loading`);
        }
      }
    }
    if (!primary.sealed) {
      legacy.push({ type: 'put', key: primaryKey, value: seal(m.kek, primary.plaintext) });
    }

    const backup = await m.read(backupKey);
    if (backup !== undefined && !backup.sealed) {
      legacy.push({ type: 'put', key: backupKey, value: seal(m.kek, backup.plaintext) });
    }

    m.install(
      await m.loadSecret(primary.record, primaryKey),
      backup === undefined ? undefined : await m.loadSecret(backup.record, backupKey),
    );

    // Secrets are always sealed at rest: seal what an older version left in plaintext.
    if (legacy.length > 0) {
      await m.store.batch(legacy);
      m.log?.info('sealed legacy plaintext signing secrets');
    }
    await m.rotateIfDue();
    return m;
  }

  /**
   * Seals another secret kept at rest (a TOTP seed, issue 13) under the same key-encryption key
   * and format as the signing secrets (seal.ts).
   */
  sealValue(plaintext: Uint8Array): Uint8Array {
    return seal(this.kek, plaintext);
  }

  /** The plaintext of a blob from sealValue; anything not sealed, or sealed under another KEK, throws. */
  unsealValue(blob: Uint8Array): Uint8Array {
    if (!isSealed(blob)) throw new SecretsError('refusing an unsealed value where a sealed one is expected');
    return unseal(this.kek, blob);
  }

  /** The key that signs every new token. */
  signingKey(): CryptoKey {
    return this.primary.keys.sign;
  }

  /** The kid of the signing key (RFC 7638 thumbprint); undefined under HS256. */
  signingKid(): string | undefined {
    return this.primary.keys.kid;
  }

  /** The kid of a key of the verify set; undefined under HS256 or for a key not ours. */
  kidOf(key: CryptoKey): string | undefined {
    return this.kids.get(key);
  }

  /**
   * The public keys of the verify set, for `GET /auth/jwks.json`: the primary, then the previous
   * key while it still verifies. Empty under HS256 (a shared secret is never published).
   */
  publicJwks(): readonly PublicJwk[] {
    const pair = this.withBackup;
    if (pair !== undefined && nowSeconds(this.clock) <= this.backupExpiresAt) return this.jwksWithBackup;
    return this.jwksPrimaryOnly;
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

      const record = await this.newSecret(now);
      const demoted: SecretRecord = { ...old.record, is_primary: false };
      const fresh: LoadedSecret = await this.loadSecret(record, this.scheme.primaryKey);
      await this.store.batch([
        { type: 'put', key: this.scheme.primaryKey, value: sealRecord(this.kek, record) },
        { type: 'put', key: this.scheme.backupKey, value: sealRecord(this.kek, demoted) },
      ]);
      // Only once the batch is durable: the cache never gets ahead of the store.
      this.install(fresh, { record: demoted, keys: old.keys });
      this.log?.info(
        `signing ${this.kindName()} rotated (version ${record.version}; ${old.record.version} verifies until ${demoted.expires_at})`,
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
    const { primaryKey, backupKey } = this.scheme;
    const primary = await this.read(primaryKey);
    if (primary === undefined) throw new SecretsError(`signing secret ${primaryKey} is missing from the store`);
    const backup = await this.read(backupKey);
    const sameBackup = (backup?.record.value ?? null) === (this.backupValue ?? null);
    if (primary.record.value === this.primary.record.value && sameBackup) return;
    this.install(
      await this.loadSecret(primary.record, primaryKey),
      backup === undefined ? undefined : await this.loadSecret(backup.record, backupKey),
    );
    this.log?.info(`signing ${this.kindName()}s reloaded from the store (primary version ${primary.record.version})`);
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

  /** "secret" for the HMAC secret, "key" for a keypair: the log lines say which. */
  private kindName(): string {
    return this.algorithm === 'HS256' ? 'secret' : `key (${this.algorithm})`;
  }

  private install(primary: LoadedSecret, backup: LoadedSecret | undefined): void {
    this.primary = primary;
    this.backupValue = backup?.record.value;
    this.primaryOnly = Object.freeze([primary.keys.verify]);
    const kids = new Map<CryptoKey, string>();
    const jwk = (s: LoadedSecret) => (s.keys.publicJwk === undefined ? [] : [s.keys.publicJwk]);
    if (primary.keys.kid !== undefined) kids.set(primary.keys.verify, primary.keys.kid);
    this.jwksPrimaryOnly = Object.freeze(jwk(primary));
    if (backup !== undefined && backup.record.value !== primary.record.value) {
      this.withBackup = Object.freeze([primary.keys.verify, backup.keys.verify]);
      this.backupExpiresAt = backup.record.expires_at;
      if (backup.keys.kid !== undefined) kids.set(backup.keys.verify, backup.keys.kid);
      this.jwksWithBackup = Object.freeze([...jwk(primary), ...jwk(backup)]);
    } else {
      this.withBackup = undefined;
      this.backupExpiresAt = -1;
      this.jwksWithBackup = this.jwksPrimaryOnly;
    }
    this.kids = kids;
  }
}
