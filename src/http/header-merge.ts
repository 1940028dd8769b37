type HeaderSet = Readonly<Record<string, string>>;

/**
 * Merges frozen header sets, remembering each pair: the security variants (page, API) × the CORS
 * variants (one per allowed origin, plus two) are a handful of objects, so every response after
 * the first shares one merged object instead of spreading two per request.
 */
export function headerMerger(): (a: HeaderSet, b: HeaderSet) => HeaderSet {
  const merged = new Map<HeaderSet, Map<HeaderSet, HeaderSet>>();
  return (a, b) => {
    let row = merged.get(a);
    if (row === undefined) merged.set(a, (row = new Map()));
    let both = row.get(b);
    if (both === undefined) row.set(b, (both = Object.freeze({ ...a, ...b })));
    return both;
  };
}
