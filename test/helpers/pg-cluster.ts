/**
 * A throwaway PostgreSQL cluster for the tests: initdb into a temp directory, pg_ctl start on a
 * free loopback port, trust authentication, no outside service. Debian's binaries live under
 * /usr/lib/postgresql/<version>/bin and refuse to run as root, so as root they run through
 * `runuser -u postgres` on a directory that user owns.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PgCluster {
  /** `postgres://postgres@127.0.0.1:<port>` (add `/<database>`). */
  baseUrl: string;
  port: number;
  dataDir: string;
  /** Stops the server (fast mode) and keeps the data. */
  stop(): void;
  /** Starts it again on the same port. */
  start(): void;
  /** Stops it and removes the directory. */
  destroy(): void;
}

/** The directory holding initdb and pg_ctl, or undefined when PostgreSQL is not installed. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return which.status === 0 && found !== '' ? join(found, '..') : undefined;
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresMissing(): string | undefined {
  return postgresBinDir() === undefined
    ? 'PostgreSQL is not installed (apt-get install postgresql; .ci/run does it when run as root)'
    : undefined;
}

function freePortSync(): number {
  // A synchronous free-port probe: a tiny child binds :0 and prints the port.
  const out = execFileSync(
    process.execPath,
    ['-e', "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"],
    { encoding: 'utf8' },
  );
  return Number(out.trim());
}

export function startCluster(): PgCluster {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error(postgresMissing());
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'mero-auth-pg-'));
  const dataDir = join(dir, 'data');
  if (asRoot) chownSync(dir, uid('postgres'), gid('postgres'));
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
    const r = spawnSync(file, argv, { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.error?.message ?? ''}${r.stdout}${r.stderr}`);
  };
  run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-sync']);
  const port = freePortSync();
  // fsync off: these clusters hold test data only; the service's durability is PostgreSQL's.
  const opts = `-c port=${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c max_connections=300`;
  const start = () => run('pg_ctl', ['-D', dataDir, '-l', join(dir, 'log'), '-o', opts, '-w', '-t', '60', 'start']);
  const stop = () => run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
  start();
  let running = true;
  return {
    baseUrl: `postgres://postgres@127.0.0.1:${port}`,
    port,
    dataDir,
    stop() {
      if (running) stop();
      running = false;
    },
    start() {
      if (!running) start();
      running = true;
    },
    destroy() {
      try {
        if (running) stop();
      } finally {
        running = false;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A fresh, empty database on the cluster; returns its URL. */
export async function createDatabase(baseUrl: string, prefix = 'test'): Promise<string> {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: `${baseUrl}/postgres` });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  return `${baseUrl}/${name}`;
}

function uid(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}
function gid(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}
