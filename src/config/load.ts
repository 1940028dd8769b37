/**
 * Resolving a configuration: defaults < TOML file < `AUTH__` environment < `--bind` for the
 * service (§7.2–§7.4); embedded defaults < the `createAuth` object for the library (§7.6).
 * Every problem is collected and thrown at once as a ConfigError (§7.3).
 */
import { readFileSync } from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import type * as z from 'zod';
import { defaultValues } from './defaults.js';
import { databaseUrlFallback, envLayer } from './env.js';
import { ConfigError, formatProblem, formatSourceProblem } from './errors.js';
import { emptyLayer, isTable, objectLayer, unknownKeyProblem, unknownKeyWarning } from './layers.js';
import type { Assignment, Layer } from './layers.js';
import { createConfigSchema, LEAF_KEYS } from './schema.js';
import type { AuthConfig, ConfigMode, ConfigSchema } from './schema.js';

export interface LoadOptions {
  /** The `--config` TOML file. */
  file?: string;
  /** `AUTH__…` overrides are read from here; defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The `--bind` flag: overrides `listen_addr`. */
  bind?: string;
  mode?: ConfigMode;
  /** `--strict`: unknown keys are problems (as `server.strict_config = true`). */
  strict?: boolean;
}

export interface ResolvedConfig {
  config: AuthConfig;
  /** One line each, for the startup log. */
  warnings: string[];
  /** Where each leaf's value came from: `defaults`, a file path, an `AUTH__…` variable, `--bind`… */
  sources: ReadonlyMap<string, string>;
}

/** What a caller may pass for a config: any subset of keys; `storage.type` may say `rocksdb`. */
export type AuthConfigInput = DeepPartial<
  Omit<AuthConfig, 'storage'> & {
    storage: Omit<AuthConfig['storage'], 'type'> & { type: 'level' | 'rocksdb' | 'memory' | 'postgres' };
  }
>;
type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** The service's configuration. Throws ConfigError listing every problem. */
export function loadConfig(opts: LoadOptions = {}): ResolvedConfig {
  const layers: Layer[] = [];
  let fileUnusable = false;
  if (opts.file !== undefined) {
    const file = tomlFileLayer(opts.file);
    fileUnusable = file.unusable;
    layers.push(file.layer);
  }
  layers.push(envLayer(opts.env ?? process.env));
  layers.push(databaseUrlFallback(opts.env ?? process.env, layers));
  if (opts.bind !== undefined) {
    layers.push({
      assignments: [{ path: 'listen_addr', value: opts.bind, source: '--bind' }],
      problems: [],
      warnings: [],
    });
  }
  // Without the file's values, checks between keys would report mistakes the operator never made.
  return resolveLayers(layers, opts.mode ?? 'standalone', { validate: !fileUnusable, strict: opts.strict ?? false });
}

/** `createAuth`'s configuration: embedded defaults, no `AUTH__` variables (§7.6). */
export function resolveEmbeddedConfig(obj: unknown): ResolvedConfig {
  return resolveLayers([objectLayer(obj, 'createAuth')], 'embedded');
}

/**
 * A full configuration from a few overrides, validated like any other; for tests and callers
 * that build a config in code. Warnings are dropped.
 */
export function configFromPartial(partial: AuthConfigInput = {}, mode: ConfigMode = 'standalone'): AuthConfig {
  const source = mode === 'embedded' ? 'createAuth' : 'test';
  return resolveLayers([objectLayer(partial, source)], mode).config;
}

/** The defaults of a mode, as a fresh object the caller may change. */
export function defaultConfig(mode: ConfigMode = 'standalone'): AuthConfig {
  return resolveLayers([], mode).config;
}

function tomlFileLayer(file: string): { layer: Layer; unusable: boolean } {
  const fail = (message: string) => {
    const layer = emptyLayer();
    layer.problems.push(formatSourceProblem(file, message));
    return { layer, unusable: true };
  };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return fail(`cannot read the configuration file: ${ioReason(e)}`);
  }
  let raw: unknown;
  try {
    raw = parseToml(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    if (e instanceof TomlError) {
      const what = (e.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
      return fail(`TOML syntax error at line ${e.line}, column ${e.column}: ${what}`);
    }
    return fail(`cannot parse the configuration file: ${String(e)}`);
  }
  return { layer: objectLayer(raw, file), unusable: false };
}

function ioReason(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  // Node appends ", <syscall> '<path>'"; the path is already at the start of the line.
  const syscall = (e as NodeJS.ErrnoException).syscall;
  return syscall === undefined ? e.message : e.message.replace(new RegExp(`, ${syscall}( '.*')?$`), '');
}

function resolveLayers(
  layers: readonly Layer[],
  mode: ConfigMode,
  { validate = true, strict = false }: { validate?: boolean; strict?: boolean } = {},
): ResolvedConfig {
  const merged = new Map<string, Assignment>();
  for (const a of flattenDefaults(mode)) merged.set(a.path, a);
  for (const layer of layers) for (const a of layer.assignments) merged.set(a.path, a);

  const problems = layers.flatMap((l) => l.problems);
  let warnings = layers.flatMap((l) => l.warnings);
  // Unknown keys: warnings, or problems under --strict / server.strict_config = true.
  if (strict || merged.get('server.strict_config')?.value === true) {
    const unknown = layers.flatMap((l) => l.unknown ?? []);
    const dropped = new Set(unknown.map((u) => unknownKeyWarning(u.path, u.source)));
    warnings = warnings.filter((w) => !dropped.has(w));
    problems.push(...unknown.map((u) => unknownKeyProblem(u.path, u.source)));
  }
  if (!validate) throw new ConfigError(problems);

  const sources = new Map([...merged].map(([path, a]) => [path, a.source]));
  const result = schemaFor(mode).safeParse(unflatten(merged));
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(issueProblem(issue, sources));
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(dedupe(problems));
  return { config: result.data, warnings: [...warnings, ...configWarnings(result.data, sources)], sources };
}

const schemas = new Map<ConfigMode, ConfigSchema>();
function schemaFor(mode: ConfigMode): ConfigSchema {
  let schema = schemas.get(mode);
  if (schema === undefined) schemas.set(mode, (schema = createConfigSchema(mode)));
  return schema;
}

function flattenDefaults(mode: ConfigMode): Assignment[] {
  const defaults = defaultValues(mode) as unknown;
  return [...LEAF_KEYS.keys()].map((path) => ({
    path,
    value: path.split('.').reduce<unknown>((o, k) => (isTable(o) ? o[k] : undefined), defaults),
    source: 'defaults',
  }));
}

function unflatten(merged: ReadonlyMap<string, Assignment>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const { path, value } of merged.values()) {
    const parts = path.split('.');
    const last = parts.pop() as string;
    let node = root;
    for (const p of parts) {
      const next = node[p];
      node = isTable(next) ? next : (node[p] = {});
    }
    node[last] = value;
  }
  return root;
}

/** The display key carries list indices; the source comes from the leaf (or leaves) involved. */
function issueProblem(issue: z.core.$ZodIssue, sources: ReadonlyMap<string, string>): string {
  let display = '';
  const keyParts: string[] = [];
  for (const seg of issue.path) {
    if (typeof seg === 'number') {
      display += `[${seg}]`;
    } else {
      display += display ? `.${String(seg)}` : String(seg);
      if (!display.includes('[')) keyParts.push(String(seg));
    }
  }
  const params = 'params' in issue ? (issue.params as { keys?: string[] } | undefined) : undefined;
  const keys = params?.keys ?? [keyParts.join('.')];
  return formatProblem(display || '(root)', sourceOf(keys, sources), issue.message);
}

/** Where the named keys came from; `defaults` only when nothing else set them. */
export function sourceOf(keys: readonly string[], sources: ReadonlyMap<string, string>): string {
  const found = new Set<string>();
  for (const key of keys) {
    const direct = sources.get(key);
    if (direct !== undefined) found.add(direct);
    else for (const [p, s] of sources) if (p.startsWith(`${key}.`)) found.add(s);
  }
  const explicit = [...found].filter((s) => s !== 'defaults');
  return explicit.length > 0 ? explicit.join(', ') : 'defaults';
}

function configWarnings(config: AuthConfig, sources: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  const from = (...keys: string[]) => sourceOf(keys, sources);
  if (config.rate_limit.max_failures === 0) {
    out.push(
      `rate_limit.max_failures (from ${from('rate_limit.max_failures')}) is 0: ` +
        'the per-identity login rate limiter is disabled',
    );
  }
  const { rotation_interval_seconds: interval, grace_period_seconds: grace } = config.secrets;
  if (grace - interval < config.jwt.refresh_token_expiry) {
    out.push(
      `secrets.grace_period_seconds - secrets.rotation_interval_seconds ` +
        `(from ${from('secrets', 'jwt.refresh_token_expiry')}) = ${grace - interval} is less ` +
        `than jwt.refresh_token_expiry (${config.jwt.refresh_token_expiry}): refresh tokens ` +
        'minted just before a rotation stop verifying before they expire',
    );
  }
  if (config.development.enable_mock_auth) {
    out.push(
      `development.enable_mock_auth (from ${from('development.enable_mock_auth')}) is true: ` +
        'POST /auth/mock-token mints admin tokens; never enable it in production',
    );
  }
  return out;
}

function dedupe(lines: readonly string[]): string[] {
  return [...new Set(lines)];
}
