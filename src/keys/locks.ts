import type { Core } from '../core.js';

/**
 * Every read-modify-write of a key record that may race with provisioning (accountLock) or with
 * a refresh that revokes a client key on reuse (sessionLock) runs under both locks, in the
 * documented order, so a stale copy can never un-revoke a key or resurrect a removed permission.
 */
export function keyWriteLock<T>(core: Core, fn: () => Promise<T>): Promise<T> {
  return core.accountLock.run(() => core.sessionLock.run(fn));
}
