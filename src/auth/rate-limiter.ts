/**
 * Login failure limiter (wire §8.1): a sliding window of failure timestamps per bucket key, in
 * memory and per process. The identity limiter and the address limiter are two instances.
 */

export type RateLimitDecision = { locked: false } | { locked: true; retryAfter: number };

export interface RateLimiterOptions {
  /** Failures tolerated inside the window; the bucket locks at this count. 0 disables. */
  maxFailures: number;
  windowMs: number;
  /** Buckets kept before reclaiming / evicting. */
  maxBuckets?: number;
}

interface Bucket {
  /** Failure timestamps in ms, ascending, at most maxFailures long. */
  ts: number[];
  /** The heap entry that currently speaks for this bucket; older entries are stale. */
  entry: HeapEntry | undefined;
}

interface HeapEntry {
  /** The bucket's most recent failure when the entry was pushed. */
  at: number;
  /** Push order, so equal timestamps evict the earlier-recorded bucket first. */
  seq: number;
  key: string;
  bucket: Bucket;
}

const ALLOWED: RateLimitDecision = Object.freeze({ locked: false });

export class RateLimiter {
  private readonly max: number;
  private readonly windowMs: number;
  private readonly maxBuckets: number;
  private readonly buckets = new Map<string, Bucket>();
  /**
   * Min-heap of buckets by most recent failure, with lazy deletion. It makes reclaim and eviction
   * O(log n) instead of a scan of up to maxBuckets entries on every new key once the map is full,
   * which a flood of rotating keys would otherwise turn into event-loop time.
   */
  private heap: HeapEntry[] = [];
  private seq = 0;

  constructor(opts: RateLimiterOptions) {
    const { maxFailures, windowMs, maxBuckets = 100_000 } = opts;
    if (!Number.isSafeInteger(maxFailures) || maxFailures < 0) {
      throw new RangeError(`maxFailures must be an integer >= 0, got ${maxFailures}`);
    }
    if (!Number.isFinite(windowMs) || windowMs <= 0) {
      throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
    }
    if (!Number.isSafeInteger(maxBuckets) || maxBuckets < 1) {
      throw new RangeError(`maxBuckets must be an integer >= 1, got ${maxBuckets}`);
    }
    this.max = maxFailures;
    this.windowMs = windowMs;
    this.maxBuckets = maxBuckets;
  }

  /** Number of live buckets. */
  get size(): number {
    return this.buckets.size;
  }

  check(key: string, nowMs: number): RateLimitDecision {
    if (this.max === 0) return ALLOWED;
    const bucket = this.buckets.get(key);
    if (bucket === undefined) return ALLOWED;
    this.prune(bucket, nowMs);
    const oldest = bucket.ts[0];
    if (oldest === undefined) {
      this.buckets.delete(key);
      return ALLOWED;
    }
    if (bucket.ts.length >= this.max) {
      return {
        locked: true,
        retryAfter: Math.max(1, Math.ceil((oldest + this.windowMs - nowMs) / 1000)),
      };
    }
    return ALLOWED;
  }

  recordFailure(key: string, nowMs: number): void {
    if (this.max === 0) return;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxBuckets) this.makeRoom(nowMs);
      bucket = { ts: [], entry: undefined };
      this.buckets.set(key, bucket);
    }
    this.prune(bucket, nowMs);
    if (bucket.ts.length >= this.max) bucket.ts.shift();
    insertSorted(bucket.ts, nowMs);
    this.track(key, bucket);
  }

  reset(key: string): void {
    this.buckets.delete(key);
  }

  /** Failures the bucket can still take before it locks; Infinity when the limiter is off. */
  remaining(key: string, nowMs: number): number {
    if (this.max === 0) return Number.POSITIVE_INFINITY;
    const bucket = this.buckets.get(key);
    if (bucket === undefined) return this.max;
    this.prune(bucket, nowMs);
    return Math.max(0, this.max - bucket.ts.length);
  }

  /** Drops `t < now − W`: a failure exactly W ms old still counts. */
  private prune(bucket: Bucket, nowMs: number): void {
    const line = nowMs - this.windowMs;
    let n = 0;
    while (n < bucket.ts.length && (bucket.ts[n] as number) < line) n++;
    if (n > 0) bucket.ts.splice(0, n);
  }

  /** Reclaim every fully-aged bucket; if none was, evict the one whose latest failure is oldest. */
  private makeRoom(nowMs: number): void {
    const line = nowMs - this.windowMs;
    for (let top = this.peekLive(); top !== undefined && top.at < line; top = this.peekLive()) {
      this.popHeap();
      this.buckets.delete(top.key);
    }
    if (this.buckets.size < this.maxBuckets) return;
    const victim = this.peekLive();
    if (victim === undefined) return;
    this.popHeap();
    this.buckets.delete(victim.key);
  }

  private track(key: string, bucket: Bucket): void {
    const at = bucket.ts[bucket.ts.length - 1] as number;
    if (bucket.entry !== undefined && bucket.entry.at === at) return;
    const entry: HeapEntry = { at, seq: this.seq++, key, bucket };
    bucket.entry = entry;
    this.pushHeap(entry);
    // Each record can strand one stale entry; rebuild before they outnumber the live ones.
    if (this.heap.length > 2 * this.buckets.size + 1024) this.compact();
  }

  private isLive(e: HeapEntry): boolean {
    return this.buckets.get(e.key) === e.bucket && e.bucket.entry === e;
  }

  private peekLive(): HeapEntry | undefined {
    for (let top = this.heap[0]; top !== undefined; top = this.heap[0]) {
      if (this.isLive(top)) return top;
      this.popHeap();
    }
    return undefined;
  }

  private compact(): void {
    this.heap = this.heap.filter((e) => this.isLive(e));
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private pushHeap(e: HeapEntry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(e, h[parent] as HeapEntry)) break;
      h[i] = h[parent] as HeapEntry;
      i = parent;
    }
    h[i] = e;
  }

  private popHeap(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    this.siftDown(0);
  }

  private siftDown(start: number): void {
    const h = this.heap;
    const e = h[start] as HeapEntry;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && less(h[r] as HeapEntry, h[l] as HeapEntry) ? r : l;
      if (!less(h[child] as HeapEntry, e)) break;
      h[i] = h[child] as HeapEntry;
      i = child;
    }
    h[i] = e;
  }
}

function less(a: HeapEntry, b: HeapEntry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** Keeps the list ascending even if the wall clock steps back (appending is the usual case). */
function insertSorted(ts: number[], t: number): void {
  let i = ts.length;
  while (i > 0 && (ts[i - 1] as number) > t) i--;
  ts.splice(i, 0, t);
}

const KEY_CODE_POINTS = 256;

/**
 * The identity bucket key (wire §3.2 step 2), from the raw, unsanitised values: each part is cut
 * to its first 256 code points and prefixed with its UTF-8 byte length, so no choice of `|` in
 * either value can make two different pairs collide.
 */
export function identityBucketKey(authMethod: string, publicKey: string): string {
  const a = firstCodePoints(authMethod, KEY_CODE_POINTS);
  const p = firstCodePoints(publicKey, KEY_CODE_POINTS);
  return `${Buffer.byteLength(a, 'utf8')}|${a}|${Buffer.byteLength(p, 'utf8')}|${p}`;
}

function firstCodePoints(s: string, n: number): string {
  // Cheap exit: n UTF-16 units hold at most n code points.
  if (s.length <= n) return s;
  let out = '';
  let count = 0;
  for (const cp of s) {
    if (count === n) break;
    out += cp;
    count++;
  }
  return out;
}
