import { describe, expect, it } from 'vitest';
import { RateLimiter, identityBucketKey } from './rate-limiter.js';

const W = 60_000;

type Step =
  | { op: 'fail'; key?: string; at: number }
  | { op: 'reset'; key?: string }
  | { op: 'check'; key?: string; at: number; expect: { locked: false } | { locked: true; retryAfter: number } };

interface Case {
  name: string;
  max?: number;
  steps: Step[];
}

const allowed = { locked: false } as const;
const locked = (retryAfter: number) => ({ locked: true, retryAfter }) as const;

// wire §8.1 acceptance 1–6 (budget 3, window 60 s unless stated).
const cases: Case[] = [
  {
    name: '1. not locked initially',
    steps: [{ op: 'check', at: 0, expect: allowed }],
  },
  {
    name: '2. two failures allowed; the third locks with retry-after 57',
    steps: [
      { op: 'fail', at: 0 },
      { op: 'fail', at: 1000 },
      { op: 'check', at: 2000, expect: allowed },
      { op: 'fail', at: 2000 },
      { op: 'check', at: 3000, expect: locked(57) },
    ],
  },
  {
    name: '3. still locked at 59 s with retry-after 1; allowed at 61.001 s',
    steps: [
      { op: 'fail', at: 0 },
      { op: 'fail', at: 1000 },
      { op: 'fail', at: 2000 },
      { op: 'check', at: 59_000, expect: locked(1) },
      // Exactly W old still counts: at 60 000 the t=0 failure is kept.
      { op: 'check', at: 60_000, expect: locked(1) },
      { op: 'check', at: 61_001, expect: allowed },
    ],
  },
  {
    name: '4. a reset clears a lockout',
    steps: [
      { op: 'fail', at: 0 },
      { op: 'fail', at: 1 },
      { op: 'fail', at: 2 },
      { op: 'check', at: 3, expect: locked(60) },
      { op: 'reset' },
      { op: 'check', at: 4, expect: allowed },
    ],
  },
  {
    name: '5. buckets are independent (budget 2)',
    max: 2,
    steps: [
      { op: 'fail', key: 'a', at: 0 },
      { op: 'fail', key: 'a', at: 1 },
      { op: 'check', key: 'a', at: 2, expect: locked(60) },
      { op: 'check', key: 'b', at: 2, expect: allowed },
    ],
  },
  {
    name: '6. 50 failures keep exactly 3 timestamps, the oldest 47',
    steps: [
      ...Array.from({ length: 50 }, (_, i): Step => ({ op: 'fail', at: i })),
      // Locked at 47 + W (47 is kept, exactly W old) and free 1 ms later (47 was the oldest).
      { op: 'check', at: 100, expect: locked(60) },
      { op: 'check', at: 47 + W, expect: locked(1) },
      { op: 'check', at: 47 + W + 1, expect: allowed },
    ],
  },
];

describe('RateLimiter acceptance (wire §8.1)', () => {
  it.each(cases)('$name', ({ max = 3, steps }) => {
    const rl = new RateLimiter({ maxFailures: max, windowMs: W });
    for (const s of steps) {
      const key = s.key ?? 'k';
      if (s.op === 'fail') rl.recordFailure(key, s.at);
      else if (s.op === 'reset') rl.reset(key);
      else expect(rl.check(key, s.at), `check(${key}, ${s.at})`).toEqual(s.expect);
    }
  });

  it('6. the bucket never holds more than max entries', () => {
    const rl = new RateLimiter({ maxFailures: 3, windowMs: W });
    for (let t = 0; t < 50; t++) rl.recordFailure('k', t);
    // retry-after reads the oldest kept entry: 47 gives ceil(1001 / 1000) = 2 here, whereas a
    // kept 46 (a fourth entry) would give ceil(1000 / 1000) = 1.
    expect(rl.check('k', 47 + W - 1001)).toEqual({ locked: true, retryAfter: 2 });
  });

  it('7. one failure per second for 200 s: locked from the third failure on', () => {
    const rl = new RateLimiter({ maxFailures: 3, windowMs: W });
    for (let i = 0; i < 200; i++) {
      const now = i * 1000;
      rl.recordFailure('k', now);
      const d = rl.check('k', now);
      if (i < 2) {
        expect(d).toEqual({ locked: false });
      } else {
        expect(d.locked).toBe(true);
        if (d.locked) {
          expect(d.retryAfter).toBeGreaterThanOrEqual(1);
          expect(d.retryAfter).toBeLessThanOrEqual(60);
          expect(Number.isInteger(d.retryAfter)).toBe(true);
        }
      }
    }
  });

  it('8. reclaim at now=70000: [50000] survives, [0,100] is removed', () => {
    // Budget 1 so that check() can tell whether `survivor` still exists (it locks only if kept).
    const rl1 = new RateLimiter({ maxFailures: 1, windowMs: W, maxBuckets: 2 });
    rl1.recordFailure('survivor', 50_000);
    rl1.recordFailure('aged', 0); // clock stepped back: ordering must not matter
    rl1.recordFailure('aged', 100);
    rl1.recordFailure('newcomer', 70_000);
    expect(rl1.size).toBe(2);
    expect(rl1.check('survivor', 70_000)).toEqual({ locked: true, retryAfter: 40 });
    expect(rl1.check('newcomer', 70_000)).toEqual({ locked: true, retryAfter: 60 });

    // Same with the acceptance's exact bucket contents (budget 3): `aged` is [0,100].
    const rl3 = new RateLimiter({ maxFailures: 3, windowMs: W, maxBuckets: 2 });
    rl3.recordFailure('aged', 0);
    rl3.recordFailure('aged', 100);
    rl3.recordFailure('survivor', 50_000);
    rl3.recordFailure('survivor', 50_000);
    rl3.recordFailure('survivor', 50_000);
    rl3.recordFailure('newcomer', 70_000);
    expect(rl3.size).toBe(2);
    expect(rl3.check('survivor', 70_000)).toEqual({ locked: true, retryAfter: 40 });
  });

  it('8. reclaim removes every fully-aged bucket, not just one', () => {
    const rl = new RateLimiter({ maxFailures: 1, windowMs: W, maxBuckets: 4 });
    rl.recordFailure('a', 0);
    rl.recordFailure('b', 5_000);
    rl.recordFailure('c', 9_999);
    rl.recordFailure('live', 10_000); // exactly W old at 70 000: still counts
    rl.recordFailure('new', 70_000);
    expect(rl.size).toBe(2);
    expect(rl.check('live', 70_000)).toEqual({ locked: true, retryAfter: 1 });
    expect(rl.check('new', 70_000)).toEqual({ locked: true, retryAfter: 60 });
  });

  it('9. eviction victim among {old:[10,20], new:[100]} is old', () => {
    const rl = new RateLimiter({ maxFailures: 2, windowMs: W, maxBuckets: 2 });
    rl.recordFailure('new', 100); // recorded first, yet its latest failure is the newer one
    rl.recordFailure('old', 10);
    rl.recordFailure('old', 20);
    rl.recordFailure('third', 200); // nothing has aged out at 200: someone must go
    expect(rl.size).toBe(2);
    expect(rl.check('old', 200)).toEqual({ locked: false }); // evicted: no bucket
    rl.recordFailure('new', 201);
    expect(rl.check('new', 202)).toEqual({ locked: true, retryAfter: 60 }); // kept: [100, 201]
  });
});

describe('RateLimiter eviction at a small maxBuckets', () => {
  it('never holds more than maxBuckets and evicts the least recently failing bucket', () => {
    const rl = new RateLimiter({ maxFailures: 1, windowMs: W, maxBuckets: 3 });
    rl.recordFailure('a', 1);
    rl.recordFailure('b', 2);
    rl.recordFailure('c', 3);
    rl.recordFailure('a', 4); // a's latest is now the newest; b is the oldest
    rl.recordFailure('d', 5);
    expect(rl.size).toBe(3);
    expect(rl.check('b', 6)).toEqual({ locked: false });
    expect(rl.check('a', 6).locked).toBe(true);
    expect(rl.check('c', 6).locked).toBe(true);
    expect(rl.check('d', 6).locked).toBe(true);

    rl.recordFailure('e', 7); // next victim: c (latest 3)
    expect(rl.size).toBe(3);
    expect(rl.check('c', 8)).toEqual({ locked: false });
    expect(rl.check('a', 8).locked).toBe(true);
  });

  it('a failure on an existing key never evicts', () => {
    const rl = new RateLimiter({ maxFailures: 5, windowMs: W, maxBuckets: 2 });
    rl.recordFailure('a', 0);
    rl.recordFailure('b', 1);
    for (let t = 2; t < 10; t++) rl.recordFailure('a', t);
    expect(rl.size).toBe(2);
    expect(rl.check('b', 10)).toEqual({ locked: false });
    expect(rl.size).toBe(2); // b still present: its one failure is inside the window
  });

  it('stays bounded and correct under a long flood of distinct keys', () => {
    const rl = new RateLimiter({ maxFailures: 1, windowMs: W, maxBuckets: 100 });
    for (let i = 0; i < 10_000; i++) rl.recordFailure(`k${i}`, i);
    expect(rl.size).toBe(100);
    // The survivors are exactly the 100 most recent keys.
    expect(rl.check('k9899', 10_000)).toEqual({ locked: false });
    expect(rl.check('k9900', 10_000).locked).toBe(true);
    expect(rl.check('k9999', 10_000).locked).toBe(true);
  });

  it('a check that empties a bucket deletes it', () => {
    const rl = new RateLimiter({ maxFailures: 3, windowMs: W });
    rl.recordFailure('a', 0);
    expect(rl.size).toBe(1);
    expect(rl.check('a', W)).toEqual({ locked: false });
    expect(rl.size).toBe(1);
    expect(rl.check('a', W + 1)).toEqual({ locked: false });
    expect(rl.size).toBe(0);
  });
});

describe('RateLimiter with budget 0', () => {
  it('is disabled: check always allowed and recordFailure stores nothing', () => {
    const rl = new RateLimiter({ maxFailures: 0, windowMs: W });
    for (let t = 0; t < 100; t++) rl.recordFailure('k', t);
    expect(rl.size).toBe(0);
    expect(rl.check('k', 100)).toEqual({ locked: false });
  });
});

describe('RateLimiter options', () => {
  it('rejects nonsense', () => {
    expect(() => new RateLimiter({ maxFailures: -1, windowMs: W })).toThrow('maxFailures must be an integer >= 0, got -1');
    expect(() => new RateLimiter({ maxFailures: 3, windowMs: 0 })).toThrow('windowMs must be > 0, got 0');
    expect(() => new RateLimiter({ maxFailures: 3, windowMs: W, maxBuckets: 0 })).toThrow(
      'maxBuckets must be an integer >= 1, got 0',
    );
  });
});

describe('identityBucketKey (wire §3.2 step 2)', () => {
  it('prefixes each part with its UTF-8 byte length', () => {
    expect(identityBucketKey('user_password', 'alice')).toBe('13|user_password|5|alice');
    expect(identityBucketKey('', '')).toBe('0||0|');
  });

  it('cannot be confused by `|` inside the values', () => {
    expect(identityBucketKey('a|1|b', 'c')).toBe('5|a|1|b|1|c');
    expect(identityBucketKey('a', 'b|1|c')).toBe('1|a|5|b|1|c');
    expect(identityBucketKey('a|1|b', 'c')).not.toBe(identityBucketKey('a', 'b|1|c'));
  });

  it('counts UTF-8 bytes for non-ASCII', () => {
    // é = 2 bytes, 日 = 3 bytes, 😀 = 4 bytes (one code point, two UTF-16 units).
    expect(identityBucketKey('José', '日本😀')).toBe('5|José|10|日本😀');
  });

  it('keeps only the first 256 code points of each part', () => {
    const long = 'x'.repeat(300);
    expect(identityBucketKey(long, 'p')).toBe(`256|${'x'.repeat(256)}|1|p`);

    // 300 emoji = 600 UTF-16 units; 256 code points of 4 bytes each survive, never half a pair.
    const emoji = '😀'.repeat(300);
    expect(identityBucketKey('m', emoji)).toBe(`1|m|1024|${'😀'.repeat(256)}`);

    // Values that differ only after the cut share a bucket.
    expect(identityBucketKey('m', `${long}a`)).toBe(identityBucketKey('m', `${long}b`));
  });

  it('cuts mixed input at a code-point boundary', () => {
    const s = `${'a'.repeat(255)}😀tail`;
    expect(identityBucketKey('m', s)).toBe(`1|m|259|${'a'.repeat(255)}😀`);
  });
});

describe('RateLimiter.remaining', () => {
  it('counts down with failures in the window and is unlimited when disabled', () => {
    const rl = new RateLimiter({ maxFailures: 3, windowMs: 60_000 });
    expect(rl.remaining('k', 0)).toBe(3);
    rl.recordFailure('k', 0);
    rl.recordFailure('k', 1000);
    expect(rl.remaining('k', 1000)).toBe(1);
    expect(rl.remaining('k', 60_001)).toBe(2); // the failure at 0 aged out
    expect(new RateLimiter({ maxFailures: 0, windowMs: 1 }).remaining('k', 0)).toBe(Number.POSITIVE_INFINITY);
  });
});
