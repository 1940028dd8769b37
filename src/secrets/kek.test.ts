import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretsError } from './errors.js';
import { createKekFile, readKekFile, resolveKek } from './kek.js';

let dir: string;
let warnings: string[];
const warn = (msg: string): void => void warnings.push(msg);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mero-kek-'));
  warnings = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const level = (storagePath: string, env: Record<string, string | undefined> = {}) =>
  resolveKek({ env, storageType: 'level', storagePath, warn });

describe('resolveKek: file beside a level store', () => {
  it('creates <path>.kek with mode 0600 and exactly 32 bytes, then reads it back', async () => {
    const storagePath = join(dir, 'auth');
    const kek = await level(storagePath);
    const file = `${storagePath}.kek`;
    const st = await stat(file);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.size).toBe(32);
    expect(new Uint8Array(await readFile(file))).toEqual(kek);
    expect(await level(storagePath)).toEqual(kek);
    expect(warnings).toEqual([]);
  });

  it('creates a missing parent directory with mode 0700', async () => {
    const storagePath = join(dir, 'nested', 'data', 'auth');
    await level(storagePath);
    expect((await stat(join(dir, 'nested', 'data'))).mode & 0o777).toBe(0o700);
    expect((await stat(`${storagePath}.kek`)).size).toBe(32);
  });

  it('refuses a file of the wrong length, naming the file and the length', async () => {
    const file = join(dir, 'auth.kek');
    await writeFile(file, Buffer.alloc(31), { mode: 0o600 });
    const err = await level(join(dir, 'auth')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretsError);
    expect((err as Error).message).toBe(`KEK file ${file} has 31 bytes; expected exactly 32`);
    // Not regenerated (Rust would): the sealed secrets stay readable once the file is fixed.
    expect(await readFile(file)).toEqual(Buffer.alloc(31));
  });

  it('refuses an empty file', async () => {
    const file = join(dir, 'auth.kek');
    await writeFile(file, '', { mode: 0o600 });
    await expect(level(join(dir, 'auth'))).rejects.toThrow(`KEK file ${file} has 0 bytes; expected exactly 32`);
  });

  it('warns, naming the file, when it is group- or world-readable', async () => {
    const file = join(dir, 'auth.kek');
    const bytes = Buffer.alloc(32, 7);
    await writeFile(file, bytes);
    await chmod(file, 0o640);
    expect(await level(join(dir, 'auth'))).toEqual(new Uint8Array(bytes));
    await chmod(file, 0o604);
    await level(join(dir, 'auth'));
    expect(warnings).toEqual([
      `KEK file ${file} is readable by group or others (mode 0640); restrict it with chmod 600`,
      `KEK file ${file} is readable by group or others (mode 0604); restrict it with chmod 600`,
    ]);
  });

  it('fails, naming the file, when it cannot be created', async () => {
    // A regular file where the parent directory should be.
    await writeFile(join(dir, 'blocker'), 'x');
    const file = join(dir, 'blocker', 'auth.kek');
    await expect(level(join(dir, 'blocker', 'auth'))).rejects.toThrow(
      `cannot create KEK file ${file}: EEXIST: file already exists, mkdir '${join(dir, 'blocker')}'`,
    );
  });

  it('refuses a directory in place of the file', async () => {
    const file = join(dir, 'auth.kek');
    await mkdir(file);
    await expect(level(join(dir, 'auth'))).rejects.toThrow(`KEK file ${file} is not a regular file`);
  });

  it('leaves a file that appeared before the exclusive create untouched (race)', async () => {
    const file = join(dir, 'auth.kek');
    const theirs = Buffer.alloc(32, 9);
    await writeFile(file, theirs, { mode: 0o600 });
    expect(await createKekFile(file)).toBeUndefined();
    expect(await readFile(file)).toEqual(theirs);
    expect(await readKekFile(file, warn)).toEqual(new Uint8Array(theirs));
  });

  it('readKekFile answers undefined for a missing file', async () => {
    expect(await readKekFile(join(dir, 'none.kek'), warn)).toBeUndefined();
  });
});

describe('resolveKek: environment and memory', () => {
  it('MERO_AUTH_SECRET_KEK overrides the file: SHA-256 of its UTF-8', async () => {
    const storagePath = join(dir, 'auth');
    const fromFile = await level(storagePath);
    const kek = await level(storagePath, { MERO_AUTH_SECRET_KEK: 'pässphrase' });
    const expected = new Uint8Array(createHash('sha256').update(Buffer.from('pässphrase', 'utf8')).digest());
    expect(kek).toEqual(expected);
    expect(kek).not.toEqual(fromFile);
  });

  it('with the env KEK no file is created', async () => {
    await level(join(dir, 'auth'), { MERO_AUTH_SECRET_KEK: 'x' });
    await expect(stat(join(dir, 'auth.kek'))).rejects.toThrow('ENOENT');
  });

  it('an empty MERO_AUTH_SECRET_KEK is ignored', async () => {
    const storagePath = join(dir, 'auth');
    const kek = await level(storagePath, { MERO_AUTH_SECRET_KEK: '' });
    expect(new Uint8Array(await readFile(`${storagePath}.kek`))).toEqual(kek);
  });

  it('memory storage: a random 32-byte KEK, the same for the life of the process, no file', async () => {
    const opts = { env: {}, storageType: 'memory' as const, storagePath: join(dir, 'auth'), warn };
    const a = await resolveKek(opts);
    expect(a).toHaveLength(32);
    expect(a.some((b) => b !== 0)).toBe(true);
    expect(await resolveKek(opts)).toEqual(a);
    await expect(stat(join(dir, 'auth.kek'))).rejects.toThrow('ENOENT');
  });

  it('memory storage still honours the env KEK', async () => {
    const kek = await resolveKek({
      env: { MERO_AUTH_SECRET_KEK: 'k' },
      storageType: 'memory',
      storagePath: 'unused',
      warn,
    });
    expect(kek).toEqual(new Uint8Array(createHash('sha256').update('k').digest()));
  });
});

describe('resolveKek: a store shared by several instances (postgres)', () => {
  const opts = { storageType: 'postgres' as const, storagePath: '/nonexistent/auth', warn: () => undefined };

  it('takes the key from MERO_AUTH_SECRET_KEK, as every instance must', async () => {
    const kek = await resolveKek({ ...opts, env: { MERO_AUTH_SECRET_KEK: 'shared passphrase' } });
    expect(Buffer.from(kek)).toEqual(createHash('sha256').update('shared passphrase').digest());
  });

  it('refuses to start without it (a KEK file beside one instance is not shared)', async () => {
    const attempt = resolveKek({ ...opts, env: {} });
    await expect(attempt).rejects.toBeInstanceOf(SecretsError);
    await expect(attempt).rejects.toThrow(
      'MERO_AUTH_SECRET_KEK (or MERO_AUTH_SECRET_KEK_FILE) must be set when storage.type is "postgres": every instance needs the same key-encryption key',
    );
  });
});

describe('resolveKek: MERO_AUTH_SECRET_KEK_FILE (the KEK apart from the data)', () => {
  const sha = (text: string) => new Uint8Array(createHash('sha256').update(text, 'utf8').digest());

  it('reads the passphrase from the file, one trailing newline dropped: the same key as the variable', async () => {
    const secret = join(dir, 'kek-secret');
    await writeFile(secret, 'a shared passphrase\n');
    const storagePath = join(dir, 'auth');
    const kek = await level(storagePath, { MERO_AUTH_SECRET_KEK_FILE: secret });
    expect(kek).toEqual(sha('a shared passphrase'));
    expect(kek).toEqual(await level(storagePath, { MERO_AUTH_SECRET_KEK: 'a shared passphrase' }));
    await writeFile(secret, 'crlf passphrase\r\n');
    expect(await level(storagePath, { MERO_AUTH_SECRET_KEK_FILE: secret })).toEqual(sha('crlf passphrase'));
  });

  it('creates no KEK file beside the data directory', async () => {
    const secret = join(dir, 'kek-secret');
    await writeFile(secret, 'x');
    await level(join(dir, 'auth'), { MERO_AUTH_SECRET_KEK_FILE: secret });
    await expect(stat(join(dir, 'auth.kek'))).rejects.toThrow('ENOENT');
  });

  it('satisfies postgres mode', async () => {
    const secret = join(dir, 'kek-secret');
    await writeFile(secret, 'shared passphrase');
    const kek = await resolveKek({
      env: { MERO_AUTH_SECRET_KEK_FILE: secret },
      storageType: 'postgres',
      storagePath: 'unused',
      warn,
    });
    expect(kek).toEqual(sha('shared passphrase'));
  });

  it('refuses both sources at once rather than pick one', async () => {
    const secret = join(dir, 'kek-secret');
    await writeFile(secret, 'one');
    const attempt = level(join(dir, 'auth'), { MERO_AUTH_SECRET_KEK: 'two', MERO_AUTH_SECRET_KEK_FILE: secret });
    await expect(attempt).rejects.toBeInstanceOf(SecretsError);
    await expect(attempt).rejects.toThrow('set only one of MERO_AUTH_SECRET_KEK and MERO_AUTH_SECRET_KEK_FILE');
  });

  it('refuses a missing file, naming it, and never falls back to a KEK file', async () => {
    const missing = join(dir, 'no-such-secret');
    const attempt = level(join(dir, 'auth'), { MERO_AUTH_SECRET_KEK_FILE: missing });
    await expect(attempt).rejects.toThrow(`cannot read MERO_AUTH_SECRET_KEK_FILE ${missing}: `);
    await expect(stat(join(dir, 'auth.kek'))).rejects.toThrow('ENOENT');
  });

  it('refuses an empty file (or one holding only a newline)', async () => {
    const secret = join(dir, 'kek-secret');
    await writeFile(secret, '\n');
    await expect(level(join(dir, 'auth'), { MERO_AUTH_SECRET_KEK_FILE: secret })).rejects.toThrow(
      `MERO_AUTH_SECRET_KEK_FILE ${secret} is empty`,
    );
  });
});
