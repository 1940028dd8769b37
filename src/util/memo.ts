/**
 * A pure function of one string, remembered; bounded by clearing when full (the hot callers see a
 * handful of distinct arguments). Besides skipping the work, a remembered string result is the
 * same string object every time, so a Map lookup with it reuses its hash instead of hashing a
 * freshly built string.
 */
export function memoize<T>(fn: (arg: string) => T, max = 4096): (arg: string) => T {
  const memo = new Map<string, T>();
  return (arg) => {
    const hit = memo.get(arg);
    if (hit !== undefined || memo.has(arg)) return hit as T;
    const value = fn(arg);
    if (memo.size >= max) memo.clear();
    memo.set(arg, value);
    return value;
  };
}
