/**
 * What the command line says when the data directory cannot be opened (issue 12): the absolute
 * path and what to do, instead of the bare error.
 */
import { dirname, resolve } from 'node:path';

interface StorageConfig {
  storage: { type: string; path: string };
}

function errnoIn(e: unknown): NodeJS.ErrnoException | undefined {
  for (let cur = e, depth = 0; cur instanceof Error && depth < 10; cur = cur.cause, depth++) {
    const code = (cur as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E')) return cur as NodeJS.ErrnoException;
  }
  return undefined;
}

function named(e: unknown, name: string): boolean {
  for (let cur = e, depth = 0; cur instanceof Error && depth < 10; cur = cur.cause, depth++) {
    if (cur.name === name) return true;
  }
  return false;
}

/** The owner fix for this process's user: `chown -R <uid>:<gid> <dir>`. */
function chownFix(dir: string): string {
  const ids = process.getuid === undefined ? '$(id -u):$(id -g)' : `${process.getuid()}:${process.getgid?.() ?? ''}`;
  return `sudo chown -R ${ids.replace(/:$/, '')} ${dir}`;
}

/**
 * One line for a failure to open a `level` data directory that an operator can fix: locked by a
 * running instance, permission denied, or in the way of a file. Undefined for anything else.
 */
export function storageAdvice(e: unknown, config: StorageConfig): string | undefined {
  if (config.storage.type !== 'level' && config.storage.type !== 'rocksdb') return undefined;
  const dir = resolve(config.storage.path);
  if (named(e, 'StorageLockedError')) {
    return (
      `the data directory ${dir} is locked by another process (LevelDB's LOCK): is mero-auth already running? ` +
      'Stop the running service first (one process per data directory), then run this again'
    );
  }
  if (!named(e, 'StorageOpenError')) return undefined;
  const errno = errnoIn(e);
  if (errno?.code === 'EACCES' || errno?.code === 'EPERM') {
    const denied = errno.path === undefined ? undefined : resolve(errno.path);
    const where = denied === undefined ? '' : ` (${errno.syscall ?? 'access'} ${denied})`;
    // A refused mkdir is the parent's doing: that is the directory to hand over.
    const owner = denied !== undefined && errno.syscall === 'mkdir' ? dirname(denied) : (denied ?? dir);
    return (
      `permission denied on the data directory ${dir}${where}: run mero-auth as the user that owns ${owner}, ` +
      `or give it to this user: ${chownFix(owner)}`
    );
  }
  if (errno?.code === 'ENOTDIR' || errno?.code === 'EEXIST' || (e instanceof Error && /not a directory/.test(e.message))) {
    return `the data directory ${dir} is not a directory (a file is in the way): move the file, or set storage.path elsewhere`;
  }
  if (errno?.code === 'EROFS')
    return `the data directory ${dir} is on a read-only file system: set storage.path to a writable place`;
  return undefined;
}
