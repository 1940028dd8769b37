import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { storageAdvice } from './advice.js';
import { StorageLockedError, StorageOpenError } from './level.js';

const level = { storage: { type: 'level', path: './data/auth' } };
const dir = resolve('./data/auth');

const errno = (code: string, syscall: string, path: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path });

describe('storageAdvice: what the CLI says when the data directory cannot be opened (issue 12)', () => {
  it('locked: the absolute path, stop the running service first', () => {
    expect(storageAdvice(new StorageLockedError('./data/auth'), level)).toBe(
      `the data directory ${dir} is locked by another process (LevelDB's LOCK): is mero-auth already running? ` +
        'Stop the running service first (one process per data directory), then run this again',
    );
  });

  it('EACCES on open: the directory itself is to be handed over', () => {
    const e = new StorageOpenError('./data/auth', 'denied', { cause: errno('EACCES', 'open', './data/auth/LOCK') });
    const ids = `${process.getuid?.()}:${process.getgid?.()}`;
    expect(storageAdvice(e, level)).toBe(
      `permission denied on the data directory ${dir} (open ${resolve('./data/auth/LOCK')}): run mero-auth as the user that owns ` +
        `${resolve('./data/auth/LOCK')}, or give it to this user: sudo chown -R ${ids} ${resolve('./data/auth/LOCK')}`,
    );
  });

  it('EPERM on mkdir: the parent is to be handed over', () => {
    const e = new StorageOpenError('./data/auth', 'denied', { cause: errno('EPERM', 'mkdir', './data') });
    expect(storageAdvice(e, level)).toMatch(
      new RegExp(`^permission denied on the data directory ${dir} \\(mkdir ${resolve('./data')}\\): .* ${resolve('.')}$`),
    );
  });

  it('other storage types and other failures: no advice (the plain message stands)', () => {
    expect(storageAdvice(new StorageLockedError('x'), { storage: { type: 'postgres', path: 'x' } })).toBeUndefined();
    expect(storageAdvice(new StorageOpenError('x', 'Corruption: bad block'), level)).toBeUndefined();
    expect(storageAdvice(new Error('boom'), level)).toBeUndefined();
  });
});
