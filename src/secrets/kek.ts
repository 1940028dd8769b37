import { createHash, randomBytes } from 'node:crypto';
import { open, mkdir, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SecretsError } from './errors.js';
import { SECRET_BYTES } from './generate.js';

export const KEK_ENV = 'MERO_AUTH_SECRET_KEK';
/** A file holding the passphrase instead (Docker and Kubernetes secrets): the KEK then lives apart from the data. */
export const KEK_FILE_ENV = 'MERO_AUTH_SECRET_KEK_FILE';
const KEK_BYTES = SECRET_BYTES;

export interface ResolveKekOptions {
  env: Record<string, string | undefined>;
  storageType: 'level' | 'memory' | 'postgres';
  /** `storage.path`; the KEK file is `<storagePath>.kek`, beside the data directory. */
  storagePath: string;
  warn(msg: string): void;
}

/** The KEK file that goes with a `level` data directory. */
export function kekFilePath(storagePath: string): string {
  return `${storagePath}.kek`;
}

/** The key-encryption key for sealed secrets; first match wins (wire §4.8). */
export async function resolveKek(opts: ResolveKekOptions): Promise<Uint8Array> {
  const passphrase = await passphraseFromEnv(opts.env);
  if (passphrase !== undefined) return kekOfPassphrase(passphrase);
  if (opts.storageType === 'memory') return processKek();
  if (opts.storageType === 'postgres') {
    // Every instance must unseal the same secrets, and a file beside one instance is not shared.
    throw new SecretsError(
      `${KEK_ENV} (or ${KEK_FILE_ENV}) must be set when storage.type is "postgres": every instance needs the same key-encryption key`,
    );
  }
  return readOrCreateKekFile(kekFilePath(opts.storagePath), opts.warn);
}

/** Hashing accepts a passphrase of any length and yields exactly 32 bytes. */
function kekOfPassphrase(passphrase: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(passphrase, 'utf8').digest());
}

/** The passphrase from MERO_AUTH_SECRET_KEK or the file MERO_AUTH_SECRET_KEK_FILE names; never both. */
async function passphraseFromEnv(env: Record<string, string | undefined>): Promise<string | undefined> {
  const direct = nonEmpty(env[KEK_ENV]);
  const file = nonEmpty(env[KEK_FILE_ENV]);
  if (direct !== undefined && file !== undefined) {
    // Two sources could disagree, and picking one silently could unseal with the wrong key.
    throw new SecretsError(`set only one of ${KEK_ENV} and ${KEK_FILE_ENV}`);
  }
  if (file === undefined) return direct;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SecretsError(`cannot read ${KEK_FILE_ENV} ${file}: ${errorText(e)}`, { cause: e });
  }
  // Secret files are usually written with a trailing newline (echo, kubectl create secret --from-file).
  const passphrase = text.replace(/\r?\n$/, '');
  if (passphrase === '') throw new SecretsError(`${KEK_FILE_ENV} ${file} is empty`);
  return passphrase;
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

let memoryKek: Uint8Array | undefined;

/** A memory store dies with the process, so a per-process key is enough for it. */
function processKek(): Uint8Array {
  memoryKek ??= new Uint8Array(randomBytes(KEK_BYTES));
  return memoryKek.slice();
}

async function readOrCreateKekFile(file: string, warn: (msg: string) => void): Promise<Uint8Array> {
  const existing = await readKekFile(file, warn);
  if (existing !== undefined) return existing;
  const created = await createKekFile(file);
  if (created !== undefined) return created;
  // Another process created it between our read and our create: use theirs.
  const raced = await readKekFile(file, warn);
  if (raced !== undefined) return raced;
  throw new SecretsError(`cannot create KEK file ${file}: it disappeared while being created`);
}

/** The file's 32 bytes, or `undefined` when it does not exist. */
export async function readKekFile(file: string, warn: (msg: string) => void): Promise<Uint8Array | undefined> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    // ENOTDIR: a path component is a file, so this one cannot exist either; creating it reports why.
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
    throw new SecretsError(`cannot read KEK file ${file}: ${errorText(e)}`, { cause: e });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new SecretsError(`KEK file ${file} is not a regular file`);
    // Rust regenerates a wrong-length file, which orphans every sealed secret; we refuse.
    if (st.size !== KEK_BYTES) throw wrongLength(file, st.size);
    const buf = Buffer.alloc(KEK_BYTES);
    const { bytesRead } = await fh.read(buf, 0, KEK_BYTES, 0);
    if (bytesRead !== KEK_BYTES) throw wrongLength(file, bytesRead);
    if (process.platform !== 'win32' && (st.mode & 0o044) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      warn(`KEK file ${file} is readable by group or others (mode ${mode}); restrict it with chmod 600`);
    }
    return new Uint8Array(buf);
  } catch (e) {
    if (e instanceof SecretsError) throw e;
    throw new SecretsError(`cannot read KEK file ${file}: ${errorText(e)}`, { cause: e });
  } finally {
    await fh.close();
  }
}

/**
 * Exclusively creates the file (0600) with 32 random bytes and returns them, or `undefined` when
 * the file already exists. Any other failure is fatal: Rust falls back to a throwaway key, which
 * makes the stored secrets unreadable after the next restart.
 */
export async function createKekFile(file: string): Promise<Uint8Array | undefined> {
  const fail = (e: unknown): SecretsError => new SecretsError(`cannot create KEK file ${file}: ${errorText(e)}`, { cause: e });
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw fail(e);
  }
  let fh;
  try {
    fh = await open(file, 'wx', 0o600);
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return undefined;
    throw fail(e);
  }
  const kek = new Uint8Array(randomBytes(KEK_BYTES));
  try {
    await fh.chmod(0o600); // the umask could have narrowed it; make it exact either way
    await fh.writeFile(kek);
    await fh.sync();
    await fh.close();
  } catch (e) {
    // Leave no empty or short file behind: the next start would refuse it.
    await fh.close().catch(() => undefined);
    await unlink(file).catch(() => undefined);
    throw fail(e);
  }
  await syncDir(dirname(file));
  return kek;
}

/** Persist the new directory entry too; best effort, as some platforms cannot fsync a directory. */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // ignore
  }
}

function wrongLength(file: string, length: number): SecretsError {
  return new SecretsError(`KEK file ${file} has ${length} bytes; expected exactly ${KEK_BYTES}`);
}

function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
