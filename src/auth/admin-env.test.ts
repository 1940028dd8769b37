import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ADMIN, TEST_ARGON2 } from '../../test/helpers/service.js';
import { configFromPartial, type AuthConfigInput } from '../config/load.js';
import type { Core } from '../core.js';
import { AuthService } from '../service.js';
import { MemoryStore } from '../storage/memory.js';
import { ManualClock } from '../util/clock.js';
import { AdminEnvError, provisionFromEnv, readAdminEnv, readPasswordFile, stripOneNewline } from './admin-env.js';
import { accountExists, provision } from './provision.js';

const USER_WITHOUT_PASSWORD =
  'MERO_AUTH_ADMIN_USER is set but no password was provided; set MERO_AUTH_ADMIN_PASSWORD or MERO_AUTH_ADMIN_PASSWORD_FILE';
const PASSWORD_WITHOUT_USER =
  'an admin password is set (MERO_AUTH_ADMIN_PASSWORD or MERO_AUTH_ADMIN_PASSWORD_FILE) but MERO_AUTH_ADMIN_USER is not; set it or unset the password';
const DISABLED_WARNING = 'user_password provider is disabled; MERO_AUTH_ADMIN_* credentials are ignored';
const NO_ACCOUNT_INFO =
  'no account exists: login stays disabled until one is provisioned with `mero-auth set-admin --username <name> --password-stdin`, ' +
  'or with MERO_AUTH_ADMIN_USER + MERO_AUTH_ADMIN_PASSWORD (or MERO_AUTH_ADMIN_PASSWORD_FILE) and a restart';

const dir = mkdtempSync(join(tmpdir(), 'mero-auth-admin-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCounter = 0;
function passwordFile(content: string): string {
  const path = join(dir, `pw-${fileCounter++}`);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}
const missingFile = (): string => join(dir, `missing-${fileCounter++}`);

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

function expectAdminEnvError(fn: () => unknown, message: string): void {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(AdminEnvError);
  expect(e.name).toBe('AdminEnvError');
  expect(e.message).toBe(message);
}

describe('stripOneNewline (wire §7.1 table)', () => {
  it.each([
    ['secret\n', 'secret'],
    ['secret\r\n', 'secret'],
    ['secret', 'secret'],
    ['se cret\n\n', 'se cret\n'],
    ['\n', ''],
    ['\r\n', ''],
    ['', ''],
    ['secret\r\n\r\n', 'secret\r\n'],
    ['secret\n\r\n', 'secret\n'],
    ['secret\r', 'secret\r'],
    ['  spaced  \n', '  spaced  '],
    ['\nsecret', '\nsecret'],
  ])('%j → %j', (input, output) => {
    expect(stripOneNewline(input)).toBe(output);
  });
});

describe('readPasswordFile', () => {
  it('reads the file and strips one trailing newline', () => {
    expect(readPasswordFile(passwordFile('hunter2 hunter2\n'))).toBe('hunter2 hunter2');
    expect(readPasswordFile(passwordFile('pässwörd\r\n'))).toBe('pässwörd');
  });

  it('an unreadable file → failed to read MERO_AUTH_ADMIN_PASSWORD_FILE=<path>: <reason>', () => {
    const path = missingFile();
    expectAdminEnvError(
      () => readPasswordFile(path),
      `failed to read MERO_AUTH_ADMIN_PASSWORD_FILE=${path}: ENOENT: no such file or directory, open '${path}'`,
    );
    expectAdminEnvError(
      () => readPasswordFile(dir),
      `failed to read MERO_AUTH_ADMIN_PASSWORD_FILE=${dir}: EISDIR: illegal operation on a directory, read`,
    );
  });
});

describe('readAdminEnv', () => {
  it('nothing set → undefined', () => {
    expect(readAdminEnv({})).toBeUndefined();
  });

  it('empty values count as unset', () => {
    expect(
      readAdminEnv({ MERO_AUTH_ADMIN_USER: '', MERO_AUTH_ADMIN_PASSWORD: '', MERO_AUTH_ADMIN_PASSWORD_FILE: '' }),
    ).toBeUndefined();
  });

  it('user + password', () => {
    expect(readAdminEnv({ MERO_AUTH_ADMIN_USER: 'admin', MERO_AUTH_ADMIN_PASSWORD: 'pw with spaces ' })).toEqual({
      username: 'admin',
      password: 'pw with spaces ',
    });
  });

  it('the password variable keeps its newline: only the file is stripped', () => {
    expect(readAdminEnv({ MERO_AUTH_ADMIN_USER: 'admin', MERO_AUTH_ADMIN_PASSWORD: 'secret\n' })?.password).toBe('secret\n');
  });

  it('user + file, one trailing newline stripped', () => {
    for (const [content, password] of [
      ['secret\n', 'secret'],
      ['secret\r\n', 'secret'],
      ['secret', 'secret'],
      ['se cret\n\n', 'se cret\n'],
    ] as const) {
      expect(readAdminEnv({ MERO_AUTH_ADMIN_USER: 'admin', MERO_AUTH_ADMIN_PASSWORD_FILE: passwordFile(content) })).toEqual({
        username: 'admin',
        password,
      });
    }
  });

  it('a non-empty file wins over the variable', () => {
    expect(
      readAdminEnv({
        MERO_AUTH_ADMIN_USER: 'admin',
        MERO_AUTH_ADMIN_PASSWORD: 'from-variable',
        MERO_AUTH_ADMIN_PASSWORD_FILE: passwordFile('from-file\n'),
      })?.password,
    ).toBe('from-file');
  });

  it('an empty or newline-only file falls through to the variable', () => {
    for (const content of ['', '\n', '\r\n']) {
      expect(
        readAdminEnv({
          MERO_AUTH_ADMIN_USER: 'admin',
          MERO_AUTH_ADMIN_PASSWORD: 'from-variable',
          MERO_AUTH_ADMIN_PASSWORD_FILE: passwordFile(content),
        })?.password,
      ).toBe('from-variable');
    }
  });

  it('an empty file and no variable → user without password', () => {
    expectAdminEnvError(
      () => readAdminEnv({ MERO_AUTH_ADMIN_USER: 'admin', MERO_AUTH_ADMIN_PASSWORD_FILE: passwordFile('\n') }),
      USER_WITHOUT_PASSWORD,
    );
  });

  it('an unreadable file is an error even when the variable is set', () => {
    const path = missingFile();
    expectAdminEnvError(
      () =>
        readAdminEnv({
          MERO_AUTH_ADMIN_USER: 'admin',
          MERO_AUTH_ADMIN_PASSWORD: 'from-variable',
          MERO_AUTH_ADMIN_PASSWORD_FILE: path,
        }),
      `failed to read MERO_AUTH_ADMIN_PASSWORD_FILE=${path}: ENOENT: no such file or directory, open '${path}'`,
    );
  });

  it('a user without a password', () => {
    expectAdminEnvError(() => readAdminEnv({ MERO_AUTH_ADMIN_USER: 'admin' }), USER_WITHOUT_PASSWORD);
    expectAdminEnvError(
      () => readAdminEnv({ MERO_AUTH_ADMIN_USER: 'admin', MERO_AUTH_ADMIN_PASSWORD: '' }),
      USER_WITHOUT_PASSWORD,
    );
  });

  it('a password without a user (variable or file)', () => {
    expectAdminEnvError(() => readAdminEnv({ MERO_AUTH_ADMIN_PASSWORD: 'pw' }), PASSWORD_WITHOUT_USER);
    expectAdminEnvError(() => readAdminEnv({ MERO_AUTH_ADMIN_USER: '', MERO_AUTH_ADMIN_PASSWORD: 'pw' }), PASSWORD_WITHOUT_USER);
    expectAdminEnvError(() => readAdminEnv({ MERO_AUTH_ADMIN_PASSWORD_FILE: passwordFile('pw\n') }), PASSWORD_WITHOUT_USER);
  });

  it('a newline-only file and nothing else is no credentials at all', () => {
    expect(readAdminEnv({ MERO_AUTH_ADMIN_PASSWORD_FILE: passwordFile('\n') })).toBeUndefined();
  });
});

interface LogLine {
  level: number;
  msg: string;
}

const WARN = 40;
const INFO = 30;

let services: AuthService[] = [];
afterEach(async () => {
  await Promise.all(services.map((s) => s.close()));
  services = [];
});

/** A service with no account and a logger that records every line. */
async function setup(overrides: AuthConfigInput = {}): Promise<{ core: Core; lines: LogLine[]; clock: ManualClock }> {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  const clock = new ManualClock(1_700_000_000_000);
  const config = configFromPartial({
    storage: { type: 'memory', path: './unused' },
    ...overrides,
    user_password: { argon2: TEST_ARGON2, ...overrides.user_password },
  });
  const svc = await AuthService.open(config, { clock, store: new MemoryStore(), env: {}, logger });
  services.push(svc);
  lines.length = 0; // only what provisioning logs (startup logs the new signing secret)
  return { core: svc.core, lines, clock };
}

const ENV = { MERO_AUTH_ADMIN_USER: ADMIN.username, MERO_AUTH_ADMIN_PASSWORD: ADMIN.password };

async function dump(core: Core): Promise<Array<[string, string]>> {
  return (await core.store.scan('')).map(([k, v]) => [k, Buffer.from(v).toString('hex')]);
}

describe('provisionFromEnv — provider disabled', () => {
  it('does nothing and warns when credentials are set', async () => {
    const { core, lines } = await setup({ providers: { user_password: false } });
    const before = await dump(core);
    expect(await provisionFromEnv(core, ENV)).toBeUndefined();
    expect(await dump(core)).toEqual(before);
    expect(lines.filter((l) => l.level >= WARN)).toEqual([expect.objectContaining({ level: WARN, msg: DISABLED_WARNING })]);
  });

  it('any one non-empty variable is enough for the warning, and a partial set is no error', async () => {
    for (const env of [
      { MERO_AUTH_ADMIN_USER: 'admin' },
      { MERO_AUTH_ADMIN_PASSWORD: 'pw' },
      { MERO_AUTH_ADMIN_PASSWORD_FILE: missingFile() },
    ]) {
      const { core, lines } = await setup({ providers: { user_password: false } });
      expect(await provisionFromEnv(core, env)).toBeUndefined();
      expect(lines.map((l) => [l.level, l.msg])).toEqual([[WARN, DISABLED_WARNING]]);
    }
  });

  it('no warning when nothing (or only empty values) is set', async () => {
    const { core, lines } = await setup({ providers: { user_password: false } });
    expect(await provisionFromEnv(core, {})).toBeUndefined();
    expect(
      await provisionFromEnv(core, { MERO_AUTH_ADMIN_USER: '', MERO_AUTH_ADMIN_PASSWORD: '', MERO_AUTH_ADMIN_PASSWORD_FILE: '' }),
    ).toBeUndefined();
    expect(lines).toEqual([]);
  });
});

describe('provisionFromEnv — an account exists', () => {
  it('does nothing: the variables are not even read, so a partial set is no error', async () => {
    const { core, lines } = await setup();
    await provision(core, ADMIN.username, ADMIN.password);
    const before = await dump(core);
    for (const env of [
      { MERO_AUTH_ADMIN_USER: 'someone' },
      { MERO_AUTH_ADMIN_PASSWORD: 'pw' },
      { MERO_AUTH_ADMIN_USER: 'someone', MERO_AUTH_ADMIN_PASSWORD_FILE: missingFile() },
      { MERO_AUTH_ADMIN_USER: 'someone', MERO_AUTH_ADMIN_PASSWORD: 'short' },
    ]) {
      expect(await provisionFromEnv(core, env)).toBeUndefined();
    }
    expect(await dump(core)).toEqual(before);
    expect(lines.map((l) => l.msg)).toEqual(['account created']);
  });

  it('a restart with the same variables never changes anything, even with a new password', async () => {
    const { core, clock } = await setup();
    const first = await provisionFromEnv(core, ENV);
    expect(first?.outcome).toBe('created');
    const before = await dump(core);
    clock.advanceSeconds(86_400);
    expect(await provisionFromEnv(core, ENV)).toBeUndefined();
    expect(await provisionFromEnv(core, { ...ENV, MERO_AUTH_ADMIN_PASSWORD: 'a different password' })).toBeUndefined();
    expect(await dump(core)).toEqual(before);
  });
});

describe('provisionFromEnv — no account', () => {
  it('no credentials → info log, nothing stored', async () => {
    const { core, lines } = await setup();
    const before = await dump(core);
    expect(await provisionFromEnv(core, {})).toBeUndefined();
    expect(await dump(core)).toEqual(before);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([[INFO, NO_ACCOUNT_INFO]]);
  });

  it('credentials → provision() creates the admin', async () => {
    const { core } = await setup();
    const res = await provisionFromEnv(core, ENV);
    expect(res?.outcome).toBe('created');
    expect(res?.keyId).toMatch(/^[0-9a-f]{64}$/);
    expect(await accountExists(core)).toBe(true);
    const user = await core.users.get(ADMIN.username);
    expect(user?.key_id).toBe(res?.keyId);
    expect(await core.hasher.verify(user?.password_hash ?? '', ADMIN.password)).toBe(true);
  });

  it('the password file wins and loses exactly one newline', async () => {
    const { core } = await setup();
    await provisionFromEnv(core, {
      MERO_AUTH_ADMIN_USER: 'admin',
      MERO_AUTH_ADMIN_PASSWORD: 'the variable password',
      MERO_AUTH_ADMIN_PASSWORD_FILE: passwordFile('the file password\n\n'),
    });
    const user = await core.users.get('admin');
    expect(await core.hasher.verify(user?.password_hash ?? '', 'the file password\n')).toBe(true);
    expect(await core.hasher.verify(user?.password_hash ?? '', 'the variable password')).toBe(false);
  });

  it('an environment error stops provisioning with its exact message', async () => {
    const { core } = await setup();
    const before = await dump(core);
    await expect(provisionFromEnv(core, { MERO_AUTH_ADMIN_USER: 'admin' })).rejects.toThrow(
      new AdminEnvError(USER_WITHOUT_PASSWORD),
    );
    await expect(provisionFromEnv(core, { MERO_AUTH_ADMIN_PASSWORD: 'pw' })).rejects.toThrow(
      new AdminEnvError(PASSWORD_WITHOUT_USER),
    );
    const path = missingFile();
    await expect(provisionFromEnv(core, { MERO_AUTH_ADMIN_USER: 'admin', MERO_AUTH_ADMIN_PASSWORD_FILE: path })).rejects.toThrow(
      `failed to read MERO_AUTH_ADMIN_PASSWORD_FILE=${path}: ENOENT: no such file or directory, open '${path}'`,
    );
    expect(await dump(core)).toEqual(before);
  });

  it('a provisioning error becomes an AdminEnvError with the same message, nothing stored', async () => {
    const { core } = await setup();
    const before = await dump(core);
    const e = await provisionFromEnv(core, { MERO_AUTH_ADMIN_USER: 'admin', MERO_AUTH_ADMIN_PASSWORD: 'short' }).catch(
      (err: unknown) => err as Error,
    );
    expect(e).toBeInstanceOf(AdminEnvError);
    expect((e as Error).message).toBe('Password must be at least 8 characters long');
    const long = await provisionFromEnv(core, { MERO_AUTH_ADMIN_USER: 'admin', MERO_AUTH_ADMIN_PASSWORD: 'x'.repeat(129) }).catch(
      (err: unknown) => err as Error,
    );
    expect(long).toBeInstanceOf(AdminEnvError);
    expect((long as Error).message).toBe('Password must be at most 128 characters long');
    expect(await dump(core)).toEqual(before);
  });

  it('a user whose root key was revoked is no account: the variables provision a fresh key', async () => {
    const { core } = await setup();
    const old = await provision(core, ADMIN.username, ADMIN.password);
    const key = await core.keys.getRoot(old.keyId);
    if (!key) throw new Error('key missing');
    await core.store.batch([core.keys.putOp(old.keyId, { ...key, revoked_at: 1 })]);
    const res = await provisionFromEnv(core, ENV);
    expect(res?.outcome).toBe('replaced');
    expect(res?.keyId).not.toBe(old.keyId);
    expect((await core.keys.getRoot(old.keyId))?.revoked_at).toBe(1);
  });
});
