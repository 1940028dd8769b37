/**
 * §12: a guarded path is matched as received, so a path the node would read differently from
 * the table must be refused, never normalised into an allowed route. These are the shapes that
 * a decoder or a router might fold into another path.
 */
export type RawPathProblem = 'encoded_slash' | 'backslash' | 'repeated_slash' | 'dot_segment';

/** `%2F` and `%5C` (an encoded `\`, which URL parsers treat as `/`), any case. */
const ENCODED_SLASH = /%(?:2f|5c)/i;
/** A whole segment of one or two dots, literal or `%2E`-encoded in any mix. */
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

/** The first problem found, or undefined for a path that can be matched as is. */
export function rawPathProblem(path: string): RawPathProblem | undefined {
  if (ENCODED_SLASH.test(path)) return 'encoded_slash';
  if (path.includes('\\')) return 'backslash';
  if (path.includes('//')) return 'repeated_slash';
  if (DOT_SEGMENT.test(path)) return 'dot_segment';
  return undefined;
}
