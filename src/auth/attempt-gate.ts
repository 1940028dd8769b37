/**
 * Login attempts in flight, per rate-limit bucket. An attempt's failure is only known once its
 * password has been hashed, so without this a burst of parallel guesses would all be checked
 * before the first failure landed. With it, a bucket never has more attempts in flight than it
 * has budget left: the rest wait for one to finish, then look at the bucket again. Concurrent
 * legitimate logins wait a hash or two; they are never refused for it.
 */
export class AttemptGate {
  private readonly entries = new Map<string, { count: number; waiters: Array<() => void> }>();

  inFlight(key: string): number {
    return this.entries.get(key)?.count ?? 0;
  }

  enter(key: string): void {
    const entry = this.entries.get(key);
    if (entry) entry.count++;
    else this.entries.set(key, { count: 1, waiters: [] });
  }

  leave(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.count--;
    const waiters = entry.waiters.splice(0);
    if (entry.count === 0) this.entries.delete(key);
    for (const wake of waiters) wake();
  }

  /** Resolves when an attempt in flight for `key` finishes (at once when there is none). */
  whenOneLeaves(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return Promise.resolve();
    return new Promise((resolve) => entry.waiters.push(resolve));
  }
}
