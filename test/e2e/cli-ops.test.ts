/**
 * Issue 12 items 3 and 5 through the real binary: one-line usage errors, `config check`, strict
 * configuration, the data directory's lock / permission / not-a-directory advice, set-admin's
 * password prompt on a terminal, the audit line of set-admin and `-v` decision lines.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { describe, expect, it, onTestFinished } from 'vitest';
import { cliPath, FAST_ENV, runCli, startService, tempDir } from './process.js';

const LOCK_FIXTURE = fileURLToPath(new URL('../fixtures/level-hold-lock.mjs', import.meta.url));

const hasCommand = (name: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describe('usage errors are one line', () => {
  it('--bogus: exit 2, one line naming the option and --help, no stack trace', async () => {
    const r = await runCli({ cwd: await tempDir(), args: ['--bogus'] });
    expect(r.code, r.proc.describe()).toBe(2);
    expect(r.stderr).toBe("mero-auth: unknown option '--bogus' (see mero-auth --help)");
    expect(r.stdout).toBe('');
  });

  it('config without a subcommand, and set-admin --strict', async () => {
    const cwd = await tempDir();
    const a = await runCli({ cwd, args: ['config'] });
    expect([a.code, a.stderr]).toEqual([2, "mero-auth: 'config' needs a subcommand: check (see mero-auth --help)"]);
    const b = await runCli({ cwd, args: ['set-admin', '--strict'] });
    expect([b.code, b.stderr]).toEqual([2, 'mero-auth: --strict belongs to serve and config check (see mero-auth --help)']);
  });
});

describe('mero-auth config check', () => {
  it('prints every key with its value and source, secrets redacted; unknown keys warn with a suggestion; exit 0', async () => {
    const cwd = await tempDir();
    const file = join(cwd, 'auth.toml');
    await writeFile(
      file,
      '[jwt]\nissuer = "from-file"\nisuer = "typo"\n[development]\nmock_auth_header_value = "Bearer top-secret"\n',
    );
    const r = await runCli({
      cwd,
      args: ['config', 'check', '-c', file, '--bind', '127.0.0.1:4001'],
      env: { AUTH__JWT__ACCESS_TOKEN_EXPIRY: '900', AUTH__STORAGE__URL: 'postgres://auth:hunter2@db:5432/auth' },
    });
    expect(r.code, r.proc.describe()).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const row = (key: string) =>
      lines.find((l) => l.startsWith(`${key} = `) || l.startsWith(`# ${key} `))?.replace(/ {2,}/, '  ');
    expect(row('listen_addr')).toBe('listen_addr = "127.0.0.1:4001"  # from --bind');
    expect(row('jwt.issuer')).toBe(`jwt.issuer = "from-file"  # from ${file}`);
    expect(row('jwt.access_token_expiry')).toBe('jwt.access_token_expiry = 900  # from AUTH__JWT__ACCESS_TOKEN_EXPIRY');
    expect(row('jwt.leeway_seconds')).toBe('jwt.leeway_seconds = 60  # from defaults');
    expect(row('jwt.node_host')).toBe('# jwt.node_host (unset)  # from defaults');
    expect(row('storage.url')).toBe('storage.url = "postgres://auth:[redacted]@db:5432/auth"  # from AUTH__STORAGE__URL');
    expect(row('development.mock_auth_header_value')).toBe(`development.mock_auth_header_value = "[redacted]"  # from ${file}`);
    expect(r.stdout).not.toContain('hunter2');
    expect(r.stdout).not.toContain('top-secret');
    expect(r.stderr.split('\n')).toEqual([
      `warning: unknown configuration key jwt.isuer (from ${file}); ignored; did you mean jwt.issuer?`,
      'configuration OK (1 warning)',
    ]);
    expect(existsSync(join(cwd, 'data')), 'config check opened the store').toBe(false);
  });

  it('a bad value: exit 2, one line per problem with its source', async () => {
    const r = await runCli({
      cwd: await tempDir(),
      args: ['config', 'check'],
      env: { AUTH__JWT__LEEWAY_SECONDS: 'soon', AUTH__LISTEN_ADDR: 'nowhere' },
    });
    expect(r.code, r.proc.describe()).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toEqual([
      expect.stringMatching(/^invalid configuration: jwt\.leeway_seconds \(from AUTH__JWT__LEEWAY_SECONDS\): /),
      expect.stringMatching(/^invalid configuration: listen_addr \(from AUTH__LISTEN_ADDR\): /),
    ]);
  });

  it('--strict: an unknown key is an error, with the suggestion', async () => {
    const r = await runCli({ cwd: await tempDir(), args: ['config', 'check', '--strict'], env: { AUTH__JWT__ISUER: 'x' } });
    expect(r.code, r.proc.describe()).toBe(2);
    expect(r.stderr).toBe(
      'invalid configuration: jwt.isuer (from AUTH__JWT__ISUER): unknown key, refused by --strict or server.strict_config; ' +
        'did you mean jwt.issuer (AUTH__JWT__ISSUER)?',
    );
  });
});

describe('strict configuration at start', () => {
  it('server.strict_config = true refuses an unknown key: exit 2 before the data directory is touched', async () => {
    const cwd = await tempDir();
    const file = join(cwd, 'auth.toml');
    await writeFile(file, '[server]\nstrict_config = true\n[rate_limit]\nmax_failure = 3\n');
    const r = await runCli({ cwd, args: ['-c', file] });
    expect(r.code, r.proc.describe()).toBe(2);
    expect(r.stderr).toBe(
      `invalid configuration: rate_limit.max_failure (from ${file}): unknown key, refused by --strict or server.strict_config; ` +
        'did you mean rate_limit.max_failures?',
    );
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it('without strict the service starts and logs the warning with the suggestion', async () => {
    const cwd = await tempDir();
    const svc = await startService({ cwd, env: { ...FAST_ENV, AUTH__RATE_LIMIT__MAX_FAILURE: '3' } });
    const warning = svc.logRecords().find((r) => String(r.msg).startsWith('unknown configuration key'));
    expect(warning).toMatchObject({
      level: 'warn',
      msg: 'unknown configuration key rate_limit.max_failure (from AUTH__RATE_LIMIT__MAX_FAILURE); ignored; did you mean rate_limit.max_failures (AUTH__RATE_LIMIT__MAX_FAILURES)?',
    });
    await svc.stop();
  });
});

describe('the data directory: locked, denied, in the way', () => {
  it('locked by a running instance: exit 1, the absolute path, stop the running service first (serve and set-admin)', async () => {
    const cwd = await tempDir();
    const dir = join(cwd, 'data', 'auth');
    await mkdir(dir, { recursive: true });
    const holder = spawn(process.execPath, [LOCK_FIXTURE, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    onTestFinished(() => {
      holder.kill('SIGKILL');
    });
    await new Promise<void>((resolve, reject) => {
      holder.once('exit', () => reject(new Error('lock holder exited')));
      createInterface({ input: holder.stdout }).on('line', (l) => l === 'LOCKED' && resolve());
    });
    const expected =
      `mero-auth: the data directory ${dir} is locked by another process (LevelDB's LOCK): is mero-auth already running? ` +
      'Stop the running service first (one process per data directory), then run this again';
    const serve = await runCli({ cwd, args: ['--bind', '127.0.0.1:0'] });
    expect(serve.code, serve.proc.describe()).toBe(1);
    expect(serve.stderr.split('\n').at(-1)).toBe(expected);
    const setAdmin = await runCli({ cwd, args: ['set-admin', '--username', 'alice', '--password-stdin'], stdin: 'password-1\n' });
    expect(setAdmin.code, setAdmin.proc.describe()).toBe(1);
    expect(setAdmin.stderr).toBe(expected);
  });

  it('permission denied: exit 1, the absolute path and the chown fix', async (ctx) => {
    const cwd = await tempDir();
    const parent = join(cwd, 'locked-away');
    await mkdir(parent);
    // chmod 000 does not stop root; an immutable directory (chattr +i) does, on ext4 and xfs.
    const root = process.getuid?.() === 0;
    if (root) {
      try {
        execFileSync('chattr', ['+i', parent], { stdio: 'ignore' });
      } catch {
        ctx.skip(); // running as root without chattr support: no honest way to be refused here
        return;
      }
    } else {
      await chmod(parent, 0o000);
    }
    try {
      const r = await runCli({ cwd, args: ['--bind', '127.0.0.1:0'], env: { AUTH__STORAGE__PATH: 'locked-away/data' } });
      expect(r.code, r.proc.describe()).toBe(1);
      const line = r.stderr.split('\n').at(-1) ?? '';
      expect(line).toMatch(
        new RegExp(
          `^mero-auth: permission denied on the data directory ${join(parent, 'data')} \\(mkdir ${join(parent, 'data')}\\): `,
        ),
      );
      expect(line).toContain(`run mero-auth as the user that owns ${parent}, or give it to this user: sudo chown -R `);
      expect(line.endsWith(` ${parent}`)).toBe(true);
    } finally {
      if (root) execFileSync('chattr', ['-i', parent]);
      else await chmod(parent, 0o700);
    }
  });

  it('a file where the directory belongs: exit 1, the absolute path and what to do', async () => {
    const cwd = await tempDir();
    await writeFile(join(cwd, 'afile'), 'x');
    const r = await runCli({ cwd, args: ['--bind', '127.0.0.1:0'], env: { AUTH__STORAGE__PATH: 'afile/auth' } });
    expect(r.code, r.proc.describe()).toBe(1);
    expect(r.stderr.split('\n').at(-1)).toBe(
      `mero-auth: the data directory ${join(cwd, 'afile', 'auth')} is not a directory (a file is in the way): move the file, or set storage.path elsewhere`,
    );
  });
});

describe('set-admin', () => {
  it('piped --password-stdin still works, with an audit line (actor cli) and no password in the output', async () => {
    const cwd = await tempDir();
    const r = await runCli({
      cwd,
      args: ['set-admin', '--username', 'alice', '--password-stdin'],
      env: FAST_ENV,
      stdin: 'alice-password-1\n',
    });
    expect(r.code, r.proc.describe()).toBe(0);
    expect(r.stdout).toMatch(/^admin 'alice' created \(key [0-9a-f]{8}…\)\n$/);
    expect(r.proc.logRecords()).toEqual([
      expect.objectContaining({
        level: 'info',
        audit: true,
        action: 'account.create',
        actor: 'cli',
        target: 'alice',
        result: 'ok',
      }),
    ]);
    expect(r.stderr + r.stdout).not.toContain('alice-password-1');
  });

  it.skipIf(!hasCommand('script'))('on a terminal it prompts twice without echo (a pseudo-terminal from script(1))', async () => {
    const cwd = await tempDir();
    const command = `'${process.execPath}' '${cliPath()}' set-admin --username alice`;
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...FAST_ENV };
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    let out = '';
    let answered = 0;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      // Type only once the prompt is up (raw mode on): earlier input would be echoed by the tty.
      if (answered === 0 && out.includes("Password for 'alice': ")) {
        answered = 1;
        child.stdin.write('tty-password-42\r');
      } else if (answered === 1 && out.includes('Repeat the password: ')) {
        answered = 2;
        child.stdin.write('tty-password-42\r');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code, out).toBe(0);
    expect(out).toContain("admin 'alice' created");
    expect(out).not.toContain('tty-password-42');
    // The password works: a second run with it piped reports it unchanged.
    const again = await runCli({
      cwd,
      args: ['set-admin', '--username', 'alice', '--password-stdin'],
      env: FAST_ENV,
      stdin: 'tty-password-42\n',
    });
    expect(again.stdout, again.proc.describe()).toMatch(/^admin 'alice' unchanged/);
  });
});

describe('-v: forward-auth decision lines', () => {
  it('a refused /auth/validate logs its decision and reason at debug; at startup the env admin is audited (actor env)', async () => {
    const cwd = await tempDir();
    const svc = await startService({
      cwd,
      args: ['-v'],
      env: { ...FAST_ENV, MERO_AUTH_ADMIN_USER: 'admin', MERO_AUTH_ADMIN_PASSWORD: 'admin-password-1' },
    });
    const res = await fetch(`${svc.url}/auth/validate`);
    expect(res.status).toBe(401);
    await svc.waitForLine((l) => l.includes('"forward-auth decision"'), 'a decision line');
    const records = svc.logRecords();
    expect(records.find((r) => r.msg === 'forward-auth decision')).toMatchObject({
      level: 'debug',
      decision: 'deny',
      reason: 'missing_token',
    });
    expect(records.find((r) => r.audit === true)).toMatchObject({
      level: 'info',
      action: 'account.create',
      actor: 'env',
      target: 'admin',
      result: 'ok',
    });
    expect(svc.stderr).not.toContain('admin-password-1');
    await svc.stop();
  });
});

/** Nice value of each thread of a process, by thread id (Linux: field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNice(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
    out.set(Number(tid), Number(fields[19 - 3]));
  }
  return out;
}

describe.runIf(process.platform === 'linux')('threadpool priority (issue 11: a login flood must not starve validate)', () => {
  it('serve lowers every libuv pool thread to server.threadpool_nice; the event loop keeps its priority', async () => {
    const cwd = await tempDir();
    const svc = await startService({
      cwd,
      args: ['-v'],
      env: { ...FAST_ENV, UV_THREADPOOL_SIZE: '6', MERO_AUTH_ADMIN_USER: 'admin', MERO_AUTH_ADMIN_PASSWORD: 'a long passphrase' },
    });
    const pid = svc.child.pid as number;
    expect(svc.logRecords().find((r) => r.msg === 'threadpool priority lowered')).toMatchObject({
      level: 'debug',
      status: 'lowered',
      nice: 10,
      threads: 6,
      poolSize: 6,
    });
    const nice = threadNice(pid);
    expect(nice.get(pid)).toBe(0);
    // The six pool threads, and any thread they started since (LevelDB's compaction).
    expect([...nice.values()].filter((n) => n === 10).length).toBeGreaterThanOrEqual(6);
    expect([...nice.values()].filter((n) => n !== 0 && n !== 10)).toEqual([]);
    await svc.stop();
  });

  it('server.threadpool_nice = 0 leaves every thread alone', async () => {
    const cwd = await tempDir();
    const svc = await startService({ cwd, args: ['-v'], env: { ...FAST_ENV, AUTH__SERVER__THREADPOOL_NICE: '0' } });
    expect(svc.logRecords().find((r) => r.msg === 'threadpool priority unchanged')).toMatchObject({
      reason: 'server.threadpool_nice is 0',
    });
    expect([...threadNice(svc.child.pid as number).values()].every((n) => n === 0)).toBe(true);
    await svc.stop();
  });
});
