/**
 * "Did you mean …?" for an unknown configuration key (issue 12): the nearest known key or section
 * by edit distance, when it is near enough to be a typo.
 */
import { CONFIG_TREE, type ConfigNode } from './schema.js';

/** Levenshtein distance (two rows; keys are short). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/** Every known dotted path: leaves and sections. */
const KNOWN: readonly string[] = (() => {
  const out: string[] = [];
  const walk = (node: ConfigNode, prefix: string) => {
    if (node.type !== 'section') return;
    for (const [k, child] of node.children) {
      const path = prefix ? `${prefix}.${k}` : k;
      out.push(path);
      walk(child, path);
    }
  };
  walk(CONFIG_TREE, '');
  return out;
})();

/**
 * The known key nearest to `path`, if within a typo's reach: at most a third of the last
 * segment's length (at least 1, at most 3) edits over the whole dotted path.
 */
export function suggestKey(path: string): string | undefined {
  const last = path.slice(path.lastIndexOf('.') + 1);
  const limit = Math.max(1, Math.min(3, Math.floor(last.length / 3)));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const known of KNOWN) {
    if (known === path || Math.abs(known.length - path.length) > limit) continue;
    const d = editDistance(path, known);
    if (d <= limit && d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best;
}
