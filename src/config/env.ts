/**
 * `AUTH__…` environment overrides (wire-contract §7.4): prefix and key names match
 * case-insensitively, `__` separates path segments, values are coerced to the key's kind.
 */
import { formatProblem } from './errors.js';
import { emptyLayer, unknownKeyWarning } from './layers.js';
import type { Layer } from './layers.js';
import { IGNORED_KEYS, LEAF_KEYS } from './schema.js';
import type { LeafKind } from './schema.js';

const PREFIX = 'auth__';

export type Coerced = { ok: true; value: unknown } | { ok: false; message: string };

/** Coerces one environment value to a key's kind; `""` unsets an optional string. */
export function coerceEnvValue(kind: LeafKind, raw: string): Coerced {
  if (raw === '') {
    return kind === 'optional-string'
      ? { ok: true, value: undefined }
      : { ok: false, message: 'must not be empty (only optional string keys can be unset)' };
  }
  switch (kind) {
    case 'bool': {
      const v = raw.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return { ok: true, value: true };
      if (['false', '0', 'no', 'off'].includes(v)) return { ok: true, value: false };
      return {
        ok: false,
        message: `not a boolean: ${JSON.stringify(raw)} (use true/false, 1/0, yes/no or on/off)`,
      };
    }
    case 'int': {
      const n = Number(raw);
      return /^[+-]?[0-9]+$/.test(raw) && Number.isSafeInteger(n)
        ? { ok: true, value: n }
        : { ok: false, message: `not an integer: ${JSON.stringify(raw)}` };
    }
    case 'list': {
      // Element types are left to the schema, which reports them with their index.
      try {
        const parsed: unknown = JSON.parse(raw);
        if (Array.isArray(parsed)) return { ok: true, value: parsed };
      } catch {
        // fall through
      }
      return {
        ok: false,
        message: `not a JSON array: ${JSON.stringify(raw)} (write e.g. ["a","b"])`,
      };
    }
    case 'string':
    case 'optional-string':
      return { ok: true, value: raw };
  }
}

/** The dotted key an `AUTH__…` name addresses, or `undefined` for other variables. */
export function envVarKey(name: string): string | undefined {
  if (name.length <= PREFIX.length || name.slice(0, PREFIX.length).toLowerCase() !== PREFIX) {
    return undefined;
  }
  return name
    .slice(PREFIX.length)
    .split('__')
    .map((s) => s.toLowerCase())
    .join('.');
}

/**
 * `DATABASE_URL`, the conventional variable of PostgreSQL hosting, as a fallback: it applies
 * only when no other layer gives `storage.url` a value (an empty one means unset).
 */
export function databaseUrlFallback(env: Readonly<Record<string, string | undefined>>, layers: readonly Layer[]): Layer {
  const layer = emptyLayer();
  const url = env.DATABASE_URL;
  const given = layers.some((l) => l.assignments.some((a) => a.path === 'storage.url' && a.value !== ''));
  if (!given && url !== undefined && url !== '') {
    layer.assignments.push({ path: 'storage.url', value: url, source: 'DATABASE_URL' });
  }
  return layer;
}

export function envLayer(env: Readonly<Record<string, string | undefined>>): Layer {
  const layer = emptyLayer();
  const setBy = new Map<string, string>();
  // Sorted, so that two spellings of one key resolve the same way on every run.
  for (const name of Object.keys(env).sort()) {
    const raw = env[name];
    const path = envVarKey(name);
    if (raw === undefined || path === undefined || IGNORED_KEYS.has(path)) continue;
    const kind = LEAF_KEYS.get(path);
    if (kind === undefined) {
      layer.warnings.push(unknownKeyWarning(path, name));
      layer.unknown?.push({ path, source: name });
      continue;
    }
    const earlier = setBy.get(path);
    if (earlier !== undefined) {
      layer.warnings.push(`${earlier} and ${name} both set ${path}; ${name} wins`);
    }
    setBy.set(path, name);
    const coerced = coerceEnvValue(kind, raw);
    if (coerced.ok) layer.assignments.push({ path, value: coerced.value, source: name });
    else layer.problems.push(formatProblem(path, name, coerced.message));
  }
  return layer;
}
