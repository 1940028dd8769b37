/**
 * The listing of `mero-auth config check` (issue 12): every key of the effective configuration,
 * in schema order, as `key = value  # from <source>` (TOML values, so a line can be pasted into
 * a file). Values that are secrets are redacted: the mock-auth header value, and the password of
 * a `storage.url`.
 */
import { isTable } from './layers.js';
import { LEAF_KEYS, type AuthConfig } from './schema.js';

const REDACTED = '[redacted]';

/** Keys whose whole value is a secret. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['development.mock_auth_header_value']);
/** Keys holding a URL that may carry a password. */
const URL_KEYS: ReadonlySet<string> = new Set(['storage.url']);

/** A connection URL with its password (if any) replaced; an unparsable one is redacted whole. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return REDACTED;
  }
  if (parsed.password === '') return url;
  parsed.password = 'REDACTED';
  return parsed.toString().replace(':REDACTED@', `:${REDACTED}@`);
}

function tomlValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** The value a key shows: redacted when secret; `# unset` for an optional key without one. */
export function displayValue(key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (SECRET_KEYS.has(key)) return JSON.stringify(REDACTED);
  if (URL_KEYS.has(key) && typeof value === 'string') return JSON.stringify(redactUrl(value));
  return tomlValue(value);
}

export function configListing(config: AuthConfig, sources: ReadonlyMap<string, string>): string {
  const rows: Array<[string, string]> = [];
  for (const key of LEAF_KEYS.keys()) {
    const value = key.split('.').reduce<unknown>((o, k) => (isTable(o) ? o[k] : undefined), config);
    const shown = displayValue(key, value);
    rows.push([shown === undefined ? `# ${key} (unset)` : `${key} = ${shown}`, sources.get(key) ?? 'defaults']);
  }
  const width = Math.min(60, Math.max(...rows.map(([l]) => l.length)));
  return rows.map(([line, source]) => `${line.padEnd(width)}  # from ${source}\n`).join('');
}
