/**
 * argon2id password hashes as PHC strings (wire §6.3): 16-byte random salt, 32-byte output,
 * parameters from `user_password.argon2`. Callers run these through the HashPool.
 */
import { randomBytes } from 'node:crypto';
import * as argon2 from 'argon2';

export interface Argon2Params {
  memoryKib: number;
  iterations: number;
  parallelism: number;
}

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const ARGON2_VERSION = 19;

const B64 = '[A-Za-z0-9+/]+';
/** `$<alg>$v=<n>$<k=v,…>$<salt>$<hash>` with unpadded standard base64, as PHC specifies. */
const PHC = new RegExp(`^\\$(argon2(?:id|i|d))\\$v=(\\d{1,10})\\$([a-z0-9=,]+)\\$(${B64})\\$(${B64})$`);

interface ParsedPhc {
  algorithm: string;
  version: number;
  m: number;
  t: number;
  p: number;
}

/** Parses the parts needsRehash compares; undefined for anything that is not well formed. */
function parsePhc(phc: string): ParsedPhc | undefined {
  const match = PHC.exec(phc);
  if (match === null) return undefined;
  const params = new Map<string, number>();
  for (const pair of (match[3] as string).split(',')) {
    const kv = /^([a-z]+)=(\d{1,10})$/.exec(pair);
    if (kv === null || params.has(kv[1] as string)) return undefined;
    params.set(kv[1] as string, Number(kv[2]));
  }
  const m = params.get('m');
  const t = params.get('t');
  const p = params.get('p');
  if (m === undefined || t === undefined || p === undefined) return undefined;
  return { algorithm: match[1] as string, version: Number(match[2]), m, t, p };
}

function b64(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '');
}

export class PasswordHasher {
  private readonly params: Readonly<Argon2Params>;
  /** The dummy hash, created on first need and shared by concurrent first callers. */
  private dummy: Promise<string> | undefined;
  /** The parameters the dummy is made with: the costliest of the configured and stored ones. */
  private dummyParams: Readonly<Argon2Params>;

  constructor(params: Argon2Params) {
    for (const [name, v] of Object.entries(params)) {
      if (!Number.isSafeInteger(v) || v < 1) {
        throw new RangeError(`argon2 ${name} must be an integer >= 1, got ${v}`);
      }
    }
    this.params = { ...params };
    this.dummyParams = this.params;
  }

  /**
   * Stored hashes keep the parameters they were made with until their next successful login.
   * After an operator changes the settings, an unknown user must still cost as much as the
   * costliest known one, or timing tells them apart (wire §3.2 step 10): the dummy follows the
   * costliest of the configured and stored parameters (cost ≈ memory × iterations).
   */
  /** The parameters unknown-user logins are currently verified with. */
  get dummyParameters(): Readonly<Argon2Params> {
    return this.dummyParams;
  }

  matchDummyCost(storedHashes: Iterable<string>): void {
    let best: Readonly<Argon2Params> = this.params;
    for (const phc of storedHashes) {
      const parsed = parsePhc(phc);
      if (parsed === undefined || parsed.algorithm !== 'argon2id') continue;
      if (parsed.m * parsed.t > best.memoryKib * best.iterations) {
        best = { memoryKib: parsed.m, iterations: parsed.t, parallelism: parsed.p };
      }
    }
    const d = this.dummyParams;
    if (best.memoryKib !== d.memoryKib || best.iterations !== d.iterations || best.parallelism !== d.parallelism) {
      this.dummyParams = best;
      this.dummy = undefined;
    }
  }

  /**
   * Builds the PHC string itself because the argon2 package writes the parameters as
   * `m=…,p=…,t=…`, while the stored format (and the Rust argon2 crate) uses `m=…,t=…,p=…`.
   */
  hash(password: string): Promise<string> {
    return this.hashWith(password, this.params);
  }

  private async hashWith(password: string, params: Readonly<Argon2Params>): Promise<string> {
    const { memoryKib: m, iterations: t, parallelism: p } = params;
    const salt = randomBytes(SALT_BYTES);
    const out = await argon2.hash(password, {
      type: argon2.argon2id,
      memoryCost: m,
      timeCost: t,
      parallelism: p,
      hashLength: HASH_BYTES,
      salt,
      raw: true,
    });
    return `$argon2id$v=${ARGON2_VERSION}$m=${m},t=${t},p=${p}$${b64(salt)}$${b64(out)}`;
  }

  /** True only on a match; a malformed or unsupported hash is a plain mismatch. */
  async verify(phc: string, password: string): Promise<boolean> {
    if (parsePhc(phc) === undefined) return false;
    try {
      return await argon2.verify(phc, password);
    } catch {
      return false;
    }
  }

  /**
   * For an unknown user: the same argon2 work as a real verification, then false, so timing does
   * not reveal which usernames exist.
   */
  async verifyDummy(password: string): Promise<false> {
    try {
      await this.verify(await this.dummyHash(), password);
    } catch {
      // Like verify(): an argon2 failure is a failed login, not an error of its own.
    }
    return false;
  }

  /** True when the stored hash was made with another algorithm, version or m/t/p. */
  needsRehash(phc: string): boolean {
    const parsed = parsePhc(phc);
    if (parsed === undefined) return true;
    const { memoryKib, iterations, parallelism } = this.params;
    return (
      parsed.algorithm !== 'argon2id' ||
      parsed.version !== ARGON2_VERSION ||
      parsed.m !== memoryKib ||
      parsed.t !== iterations ||
      parsed.p !== parallelism
    );
  }

  private dummyHash(): Promise<string> {
    if (this.dummy === undefined) {
      const pending = this.hashWith(randomBytes(32).toString('base64'), this.dummyParams);
      this.dummy = pending;
      // Forget a failure so the next unknown-user login retries instead of failing forever.
      pending.catch(() => {
        if (this.dummy === pending) this.dummy = undefined;
      });
    }
    return this.dummy;
  }
}
