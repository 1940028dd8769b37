/**
 * The in-process locks behind `Store.exclusive` and `Store.shared` (memory, level, and the local
 * pre-wait of postgres): a fair reader/writer lock per name and a keyed mutex per member that
 * keeps no entry for an idle member. Ordering is shown with promises the test controls.
 */
import { describe, expect, it } from 'vitest';
import { KeyedMutex, LocalLocks, RwLock } from '../../src/storage/store.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A section that records its entry, then waits for the returned release. */
function holder(events: string[], name: string) {
  const entered = deferred();
  const release = deferred();
  const body = async () => {
    events.push(`${name} in`);
    entered.resolve();
    await release.promise;
    events.push(`${name} out`);
  };
  return { body, entered: entered.promise, release: release.resolve };
}

describe('LocalLocks', () => {
  it('shared sections of different members run together; the same member serialises', async () => {
    const locks = new LocalLocks();
    const events: string[] = [];
    const a = holder(events, 'a');
    const pa = locks.shared('session', a.body, 'sid-a');
    await a.entered;
    // Another member gets in while a is held.
    await locks.shared('session', async () => void events.push('b'), 'sid-b');
    // The same member waits for a.
    const again = locks.shared('session', async () => void events.push('a2'), 'sid-a');
    expect(events).toEqual(['a in', 'b']);
    a.release();
    await Promise.all([pa, again]);
    expect(events).toEqual(['a in', 'b', 'a out', 'a2']);
  });

  it('the exclusive side waits for every shared section, and the shared ones for it', async () => {
    const locks = new LocalLocks();
    const events: string[] = [];
    const a = holder(events, 'a');
    const b = holder(events, 'b');
    const pa = locks.shared('session', a.body, 'sid-a');
    await a.entered;
    const pb = locks.shared('session', b.body); // shared, no member (a login)
    await b.entered;
    const w = holder(events, 'w');
    const pw = locks.run('session', w.body);
    // Arrives after the writer: waits behind it, so readers cannot starve it.
    const late = locks.shared('session', async () => void events.push('late'), 'sid-c');
    // Another name is independent.
    await locks.run('account', async () => void events.push('account'));
    a.release();
    await pa;
    expect(events).toEqual(['a in', 'b in', 'account', 'a out']);
    b.release();
    await w.entered;
    expect(events).toEqual(['a in', 'b in', 'account', 'a out', 'b out', 'w in']);
    w.release();
    await Promise.all([pb, pw, late]);
    expect(events).toEqual(['a in', 'b in', 'account', 'a out', 'b out', 'w in', 'w out', 'late']);
  });

  it('keeps no member entry once its sections are over, whatever the outcome', async () => {
    const locks = new LocalLocks();
    const a = holder([], 'a');
    const pa = locks.shared('session', a.body, 'x');
    const queued = locks.shared('session', () => Promise.reject(new Error('boom')), 'x');
    await a.entered;
    expect(locks.memberCount).toBe(1);
    a.release();
    await pa;
    await expect(queued).rejects.toThrow('boom');
    expect(locks.memberCount).toBe(0);

    await Promise.all(Array.from({ length: 10_000 }, (_, i) => locks.shared('session', async () => i, `sid-${i}`)));
    expect(locks.memberCount).toBe(0);
  });
});

describe('KeyedMutex', () => {
  it('serialises one key, not others, and forgets idle keys', async () => {
    const m = new KeyedMutex();
    const events: string[] = [];
    const a = holder(events, 'a');
    const pa = m.run('k', a.body);
    await a.entered;
    await m.run('other', async () => void events.push('other'));
    const pk = m.run('k', async () => void events.push('k2'));
    expect(m.size).toBe(1);
    a.release();
    await Promise.all([pa, pk]);
    expect(events).toEqual(['a in', 'other', 'a out', 'k2']);
    expect(m.size).toBe(0);
  });
});

describe('RwLock', () => {
  it('grants in arrival order, consecutive readers together', async () => {
    const l = new RwLock();
    const events: string[] = [];
    const w1 = holder(events, 'w1');
    const p1 = l.write(w1.body);
    await w1.entered;
    const r1 = holder(events, 'r1');
    const r2 = holder(events, 'r2');
    const pr1 = l.read(r1.body);
    const pr2 = l.read(r2.body);
    const pw2 = l.write(async () => void events.push('w2'));
    w1.release();
    await Promise.all([r1.entered, r2.entered]); // both readers in at once
    expect(events).toEqual(['w1 in', 'w1 out', 'r1 in', 'r2 in']);
    r1.release();
    r2.release();
    await Promise.all([p1, pr1, pr2, pw2]);
    expect(events.at(-1)).toBe('w2');
  });
});
