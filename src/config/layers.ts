/**
 * A configuration layer is a set of leaf assignments, each remembering where it came from, so
 * that a problem found after merging can still name its source (§7.3). Layers apply in order:
 * defaults < file < environment < `--bind`.
 */
import { formatProblem, formatSourceProblem } from './errors.js';
import { CONFIG_TREE, IGNORED_KEYS } from './schema.js';
import { suggestKey } from './suggest.js';
import type { ConfigNode } from './schema.js';

export interface Assignment {
  /** Dotted leaf key, e.g. `jwt.access_token_expiry`. */
  path: string;
  /** `undefined` unsets an optional string. */
  value: unknown;
  source: string;
}

export interface Layer {
  assignments: Assignment[];
  problems: string[];
  warnings: string[];
  /** Keys no schema entry matches: warnings, or problems under `server.strict_config` / `--strict`. */
  unknown?: UnknownKey[];
}

export interface UnknownKey {
  path: string;
  source: string;
}

export function emptyLayer(): Layer {
  return { assignments: [], problems: [], warnings: [], unknown: [] };
}

export function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** `; did you mean jwt.issuer?` (an `AUTH__…` source is answered with the variable's name too). */
export function didYouMean(path: string, source: string): string {
  const near = suggestKey(path);
  if (near === undefined) return '';
  const asEnv = /^auth__/i.test(source) ? ` (AUTH__${near.toUpperCase().replaceAll('.', '__')})` : '';
  return `; did you mean ${near}${asEnv}?`;
}

export function unknownKeyWarning(path: string, source: string): string {
  return path.startsWith('providers.')
    ? `unknown provider ${path} (from ${source}); ignored${didYouMean(path, source)}`
    : `unknown configuration key ${path} (from ${source}); ignored${didYouMean(path, source)}`;
}

/** The same, as a problem when unknown keys are refused. */
export function unknownKeyProblem(path: string, source: string): string {
  const what = path.startsWith('providers.') ? 'unknown provider' : 'unknown key';
  return formatProblem(path, source, `${what}, refused by --strict or server.strict_config${didYouMean(path, source)}`);
}

/**
 * Flattens a nested object (a parsed TOML file, a `createAuth` argument) into assignments.
 * Unknown keys become warnings; a scalar where a section belongs is a problem. Keys whose value
 * is `undefined` count as absent, as a JavaScript caller means them.
 */
export function objectLayer(raw: unknown, source: string): Layer {
  const layer = emptyLayer();
  if (raw === undefined || raw === null) return layer;
  if (!isTable(raw)) {
    layer.problems.push(formatSourceProblem(source, 'the configuration must be an object'));
    return layer;
  }
  walk(CONFIG_TREE, raw, '', source, layer);
  return layer;
}

function walk(node: ConfigNode, obj: Record<string, unknown>, prefix: string, source: string, layer: Layer): void {
  if (node.type !== 'section') return;
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    if (IGNORED_KEYS.has(path)) continue;
    const child = node.children.get(key);
    if (child === undefined) {
      layer.warnings.push(unknownKeyWarning(path, source));
      layer.unknown?.push({ path, source });
    } else if (child.type === 'leaf') {
      layer.assignments.push({ path, value, source });
    } else if (isTable(value)) {
      walk(child, value, path, source, layer);
    } else {
      layer.problems.push(formatProblem(path, source, 'must be a table'));
    }
  }
}
