/**
 * The configuration schema (wire-contract §7.2): the nested object the TOML file loads into,
 * snake_case keys exactly as the file spells them. It validates a *complete* object — the loader
 * fills every missing key from the defaults first — so no key here has a zod default.
 *
 * Every leaf is registered with its kind: the environment overlay coerces by it (§7.4) and the
 * loader walks the same tree to tell known keys from unknown ones.
 */
import * as z from 'zod';
import { JWT_ALGORITHMS, type JwtAlgorithm } from '../secrets/scheme.js';
import {
  ARGON2_FLOOR,
  isHeaderValue,
  isHttpOrigin,
  isIpOrCidr,
  isListenAddr,
  isOrigin,
  isToken,
  isRpId,
  listenAddrsConflict,
  meetsArgon2Floor,
  normalizeOrigin,
  passkeyOriginProblem,
} from './validators.js';

export type ConfigMode = 'standalone' | 'embedded';

/** The fully resolved configuration: every key has a value. */
export interface AuthConfig {
  /** `ip:port`; not used in embedded mode (the host listens). */
  listen_addr: string;
  jwt: {
    issuer: string;
    access_token_expiry: number;
    refresh_token_expiry: number;
    node_host: string | undefined;
    leeway_seconds: number;
    refresh_reuse_grace_seconds: number;
    /** Absolute session lifetime in seconds from login; 0 = unlimited. */
    session_max_age: number;
    /** Memory for verified tokens (MB); 0 = sized from the heap limit. */
    verified_cache_mb: number;
    /** Token signature: HS256 (shared secret, as Rust) or a keypair published at /auth/jwks.json. */
    algorithm: JwtAlgorithm;
  };
  storage: {
    /** `rocksdb` in a file is resolved to `level`. */
    type: 'level' | 'memory' | 'postgres';
    path: string;
    /** `postgres` only: the connection URL (else `DATABASE_URL`, standalone). */
    url: string | undefined;
    pool_size: number;
    statement_timeout_ms: number;
    connect_timeout_ms: number;
    /** How often each instance reads the change feed without a notification. */
    poll_interval_ms: number;
    /** Longest time a cached record may be trusted without a successful feed read. */
    coherence_bound_ms: number;
  };
  cors: {
    allow_all_origins: boolean;
    /** Normalised to what a browser sends in `Origin` (lower-case, no default port). */
    allowed_origins: string[];
    allowed_methods: string[];
    allowed_headers: string[];
    /** Accepted, no effect (as in Rust). */
    exposed_headers: string[];
    /** Accepted, no effect (as in Rust). */
    max_age: number;
    /** Accepted, no effect (as in Rust). */
    vary_header: boolean;
  };
  security: {
    max_body_size: number;
    headers: {
      enabled: boolean;
      hsts_max_age: number;
      hsts_include_subdomains: boolean;
      frame_options: string;
      content_type_options: string;
      referrer_policy: string;
      csp: {
        enabled: boolean;
        default_src: string[];
        script_src: string[];
        style_src: string[];
        connect_src: string[];
      };
    };
  };
  providers: {
    user_password: boolean;
    /** WebAuthn sign-in and second factor (issue 13). */
    passkey: {
      enabled: boolean;
      /** The relying-party id: the registrable domain every origin belongs to. */
      rp_id: string | undefined;
      rp_name: string;
      /** The page origins a ceremony may come from (normalised like cors.allowed_origins). */
      origins: string[];
      /** How long a ceremony's challenge stays usable. */
      challenge_ttl_seconds: number;
    };
  };
  /** Per-account second factor (issue 13): the TOTP issuer shown in authenticator apps. */
  second_factor: { totp_issuer: string; reauth_seconds: number };
  user_password: {
    min_password_length: number;
    max_password_length: number;
    argon2: { memory_kib: number; iterations: number; parallelism: number };
  };
  development: {
    enable_mock_auth: boolean;
    mock_auth_require_header: boolean;
    mock_auth_header_value: string | undefined;
  };
  secrets: { rotation_interval_seconds: number; grace_period_seconds: number };
  rate_limit: { max_failures: number; window_seconds: number; per_address_max_failures: number };
  /**
   * `strict_config`: unknown configuration keys are errors, not warnings (issue 12).
   * `threadpool_nice`: the nice value of libuv's threadpool under `mero-auth serve` (issue 11).
   */
  server: { trusted_proxies: string[]; strict_config: boolean; threadpool_nice: number };
  forward_auth: { enforce_permissions: boolean };
  metrics: { listen_addr: string | undefined };
  frontend: { allowed_callback_origins: string[] };
}

/** How the environment overlay coerces a value for this key (§7.4). */
export type LeafKind = 'bool' | 'int' | 'string' | 'optional-string' | 'list';

/** Optional string keys: an empty value means unset. */
export const OPTIONAL_STRING_KEYS = [
  'jwt.node_host',
  'metrics.listen_addr',
  'development.mock_auth_header_value',
  'storage.url',
  'providers.passkey.rp_id',
] as const;

/** Legacy Rust keys that are accepted without a warning and dropped. */
export const IGNORED_KEYS: ReadonlySet<string> = new Set(['user_password.bootstrap_secret']);

const leafKinds = z.registry<{ kind: LeafKind }>();

// Registration must come last: refine/transform return new schema instances.
function leaf<T extends z.ZodType>(kind: LeafKind, schema: T): T {
  leafKinds.add(schema, { kind });
  return schema;
}

function describe(input: unknown): string {
  if (Array.isArray(input)) return 'an array';
  if (input instanceof Date) return 'a date';
  if (input === null) return 'null';
  if (typeof input === 'object') return 'a table';
  return `${typeof input} ${typeof input === 'string' ? JSON.stringify(input) : String(input)}`;
}

/** A type mismatch also says what was found; a violated constraint says only the rule. */
function typeError(rule: string) {
  return (iss: { code?: string; input?: unknown }): string =>
    iss.code === 'invalid_type' && iss.input !== undefined ? `${rule}, got ${describe(iss.input)}` : rule;
}

const quoted = (iss: { input?: unknown }): string => JSON.stringify(iss.input);

const bool = () => leaf('bool', z.boolean({ error: typeError('must be a boolean') }));

function int(min: number, max: number | undefined, rule: string) {
  return leaf(
    'int',
    z.number({ error: typeError(rule) }).refine((v) => Number.isSafeInteger(v) && v >= min && (max === undefined || v <= max), {
      error: rule,
    }),
  );
}
const positiveInt = () => int(1, undefined, 'must be a positive integer');
const nonNegativeInt = () => int(0, undefined, 'must be a non-negative integer');
const intBetween = (min: number, max: number) => int(min, max, `must be an integer between ${min} and ${max}`);

const plainString = () => z.string({ error: typeError('must be a string') });
const nonEmptyString = () => leaf('string', plainString().min(1, { error: 'must be a non-empty string' }));

const listenAddr = () => plainString().refine(isListenAddr, { error: (iss) => `not an ip:port address: ${quoted(iss)}` });

/** An optional string; `""` means unset, as in the file and the environment. */
function optionalString(check?: { test: (s: string) => boolean; what: string }) {
  const unset = plainString()
    .optional()
    .transform((v) => (v === '' ? undefined : v));
  return leaf(
    'optional-string',
    check === undefined
      ? unset
      : unset.refine((v) => v === undefined || check.test(v), {
          error: (iss) => `${check.what}: ${quoted(iss)}`,
        }),
  );
}

const headerValue = () =>
  leaf(
    'string',
    plainString().refine(isHeaderValue, {
      error: (iss) => `not a valid header value: ${quoted(iss)}`,
    }),
  );

function list<T extends z.ZodType<string, string>>(item: T) {
  return leaf('list', z.array(item, { error: typeError('must be an array of strings') }));
}
const anyString = () => plainString();
const origin = (httpOnly: boolean) =>
  plainString()
    .refine(httpOnly ? isHttpOrigin : isOrigin, {
      error: (iss) =>
        isOrigin(String(iss.input)) ? `not an http or https origin: ${quoted(iss)}` : `not an origin: ${quoted(iss)}`,
    })
    .transform((s) => normalizeOrigin(s) ?? s);
const methodToken = () => plainString().refine(isToken, { error: (iss) => `not an HTTP method: ${quoted(iss)}` });
const headerName = () => plainString().refine(isToken, { error: (iss) => `not a header name: ${quoted(iss)}` });
const cspSource = () =>
  plainString().refine(isHeaderValue, {
    error: (iss) => `not a valid header value: ${quoted(iss)}`,
  });
const ipOrCidr = () => plainString().refine(isIpOrCidr, { error: (iss) => `not an IP address or CIDR: ${quoted(iss)}` });

const STORAGE_TYPES = ['level', 'rocksdb', 'memory', 'postgres'] as const;
const storageType = () =>
  leaf(
    'string',
    plainString()
      .refine((v) => (STORAGE_TYPES as readonly string[]).includes(v), {
        error: (iss) => `must be one of "level", "rocksdb", "memory", "postgres", got ${quoted(iss)}`,
      })
      // rocksdb is an alias so existing Rust files start (§7.2).
      .transform((v): 'level' | 'memory' | 'postgres' => (v === 'rocksdb' ? 'level' : (v as 'level' | 'memory' | 'postgres'))),
  );
const jwtAlgorithm = () =>
  leaf(
    'string',
    plainString()
      .refine((v) => (JWT_ALGORITHMS as readonly string[]).includes(v), {
        error: (iss) => `must be one of "HS256", "EdDSA", "ES256", got ${quoted(iss)}`,
      })
      .transform((v) => v as JwtAlgorithm),
  );
const isPostgresUrl = (v: string): boolean => {
  try {
    const u = new URL(v);
    return (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && u.hostname !== '';
  } catch {
    return false;
  }
};

const section = <T extends z.ZodRawShape>(shape: T) => z.object(shape, { error: typeError('must be a table') });

function fields() {
  return {
    listen_addr: leaf('string', listenAddr()),
    jwt: section({
      issuer: nonEmptyString(),
      access_token_expiry: positiveInt(),
      refresh_token_expiry: positiveInt(),
      node_host: optionalString(),
      leeway_seconds: intBetween(0, 300),
      refresh_reuse_grace_seconds: intBetween(0, 60),
      session_max_age: intBetween(0, 10 * 365 * 86400),
      verified_cache_mb: intBetween(0, 4096),
      algorithm: jwtAlgorithm(),
    }),
    storage: section({
      type: storageType(),
      path: nonEmptyString(),
      url: optionalString({ test: isPostgresUrl, what: 'not a postgres://user:password@host:port/database URL' }),
      pool_size: intBetween(4, 1000),
      statement_timeout_ms: intBetween(100, 600_000),
      connect_timeout_ms: intBetween(100, 600_000),
      poll_interval_ms: intBetween(10, 60_000),
      coherence_bound_ms: intBetween(100, 600_000),
    }),
    cors: section({
      allow_all_origins: bool(),
      allowed_origins: list(origin(false)),
      allowed_methods: list(methodToken()),
      allowed_headers: list(headerName()),
      exposed_headers: list(anyString()),
      max_age: nonNegativeInt(),
      vary_header: bool(),
    }),
    security: section({
      max_body_size: positiveInt(),
      headers: section({
        enabled: bool(),
        hsts_max_age: nonNegativeInt(),
        hsts_include_subdomains: bool(),
        frame_options: headerValue(),
        content_type_options: headerValue(),
        referrer_policy: headerValue(),
        // Each source is checked as a header value: the CSP string is these joined with
        // spaces and fixed ASCII text, so it is valid exactly when every source is.
        csp: section({
          enabled: bool(),
          default_src: list(cspSource()),
          script_src: list(cspSource()),
          style_src: list(cspSource()),
          connect_src: list(cspSource()),
        }),
      }),
    }),
    providers: section({
      user_password: bool(),
      passkey: section({
        enabled: bool(),
        rp_id: optionalString({ test: isRpId, what: 'not a domain name (an RP ID has no scheme, port or path)' }),
        rp_name: nonEmptyString(),
        origins: list(origin(true)),
        challenge_ttl_seconds: intBetween(10, 600),
      }),
    }),
    second_factor: section({ totp_issuer: nonEmptyString(), reauth_seconds: intBetween(30, 86400) }),
    user_password: section({
      min_password_length: positiveInt(),
      max_password_length: positiveInt(),
      argon2: section({
        memory_kib: positiveInt(),
        iterations: positiveInt(),
        parallelism: positiveInt(),
      }),
    }),
    development: section({
      enable_mock_auth: bool(),
      mock_auth_require_header: bool(),
      mock_auth_header_value: optionalString(),
    }),
    secrets: section({
      rotation_interval_seconds: int(3600, undefined, 'must be an integer of at least 3600'),
      grace_period_seconds: positiveInt(),
    }),
    rate_limit: section({
      max_failures: nonNegativeInt(),
      window_seconds: positiveInt(),
      per_address_max_failures: nonNegativeInt(),
    }),
    server: section({ trusted_proxies: list(ipOrCidr()), strict_config: bool(), threadpool_nice: intBetween(0, 19) }),
    forward_auth: section({ enforce_permissions: bool() }),
    metrics: section({
      listen_addr: optionalString({ test: isListenAddr, what: 'not an ip:port address' }),
    }),
    frontend: section({ allowed_callback_origins: list(origin(true)) }),
  };
}

/** A problem that spans keys; `keys` are the leaves whose sources the message should name. */
export interface CrossProblem {
  path: string[];
  keys: string[];
  message: string;
}

/**
 * Rules between keys. Runs even when single keys failed (zod `when`), so each rule first checks
 * that its inputs passed their own rule, to avoid reporting one mistake twice.
 */
export function crossCheck(cfg: unknown, mode: ConfigMode): CrossProblem[] {
  const get = (dotted: string): unknown => dotted.split('.').reduce<unknown>((o, k) => (isRecord(o) ? o[k] : undefined), cfg);
  const intAtLeast = (dotted: string, min: number): number | undefined => {
    const v = get(dotted);
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= min ? v : undefined;
  };
  const out: CrossProblem[] = [];
  const add = (key: string, keys: string[], message: string) => out.push({ path: key.split('.'), keys, message });

  const access = intAtLeast('jwt.access_token_expiry', 1);
  const refresh = intAtLeast('jwt.refresh_token_expiry', 1);
  if (access !== undefined && refresh !== undefined && access >= refresh) {
    add(
      'jwt.access_token_expiry',
      ['jwt.access_token_expiry', 'jwt.refresh_token_expiry'],
      `must be less than jwt.refresh_token_expiry (${refresh})`,
    );
  }

  if (get('storage.type') === 'postgres' && get('storage.url') === undefined) {
    add('storage.url', ['storage.url', 'storage.type'], 'is required when storage.type is "postgres" (or set DATABASE_URL)');
  }
  const poll = intAtLeast('storage.poll_interval_ms', 10);
  const bound = intAtLeast('storage.coherence_bound_ms', 100);
  if (poll !== undefined && bound !== undefined && poll >= bound) {
    add(
      'storage.poll_interval_ms',
      ['storage.poll_interval_ms', 'storage.coherence_bound_ms'],
      `must be less than storage.coherence_bound_ms (${bound})`,
    );
  }

  const min = intAtLeast('user_password.min_password_length', 1);
  const max = intAtLeast('user_password.max_password_length', 1);
  if (min !== undefined && max !== undefined && max <= min) {
    add(
      'user_password.max_password_length',
      ['user_password.max_password_length', 'user_password.min_password_length'],
      `must be greater than user_password.min_password_length (${min})`,
    );
  }

  const memory = intAtLeast('user_password.argon2.memory_kib', 1);
  const iterations = intAtLeast('user_password.argon2.iterations', 1);
  if (memory !== undefined && iterations !== undefined && !meetsArgon2Floor(memory, iterations)) {
    const pairs = ARGON2_FLOOR.map(([m, t]) => `(${m}, ${t})`).join(', ');
    add(
      'user_password.argon2',
      ['user_password.argon2.memory_kib', 'user_password.argon2.iterations'],
      `memory_kib = ${memory} with iterations = ${iterations} is below the OWASP floor; ` +
        `(memory_kib, iterations) must be at least one of ${pairs}`,
    );
  }

  const interval = intAtLeast('secrets.rotation_interval_seconds', 3600);
  const grace = intAtLeast('secrets.grace_period_seconds', 1);
  if (interval !== undefined && grace !== undefined && grace <= interval) {
    add(
      'secrets.grace_period_seconds',
      ['secrets.grace_period_seconds', 'secrets.rotation_interval_seconds'],
      `must be greater than secrets.rotation_interval_seconds (${interval})`,
    );
  }

  // Embedded, listen_addr is unused (the host listens), so it cannot collide.
  const listen = get('listen_addr');
  const metrics = get('metrics.listen_addr');
  if (
    mode === 'standalone' &&
    typeof listen === 'string' &&
    typeof metrics === 'string' &&
    isListenAddr(listen) &&
    isListenAddr(metrics) &&
    listenAddrsConflict(listen, metrics)
  ) {
    add('metrics.listen_addr', ['metrics.listen_addr', 'listen_addr'], `must differ from listen_addr (${listen})`);
  }

  // Issue 13: WebAuthn binds credentials to the RP ID and checks each response's origin, so an
  // inconsistent pair would register passkeys no sign-in can use. Refused at start.
  if (get('providers.passkey.enabled') === true) {
    const rpId = get('providers.passkey.rp_id');
    const origins = get('providers.passkey.origins');
    if (typeof rpId !== 'string' || rpId === '') {
      add(
        'providers.passkey.rp_id',
        ['providers.passkey.rp_id', 'providers.passkey.enabled'],
        'must be set when providers.passkey.enabled is true',
      );
    }
    if (!Array.isArray(origins) || origins.length === 0) {
      add(
        'providers.passkey.origins',
        ['providers.passkey.origins', 'providers.passkey.enabled'],
        'must list at least one origin when providers.passkey.enabled is true',
      );
    } else if (typeof rpId === 'string' && isRpId(rpId)) {
      for (const o of origins) {
        const problem = typeof o === 'string' ? passkeyOriginProblem(o, rpId) : undefined;
        if (problem !== undefined) {
          add('providers.passkey.origins', ['providers.passkey.origins', 'providers.passkey.rp_id'], problem);
          break;
        }
      }
    }
  }

  // §3.9: mock auth on means a required, non-empty header value, or anyone can mint admin tokens.
  if (get('development.enable_mock_auth') === true) {
    if (get('development.mock_auth_require_header') !== true) {
      add(
        'development.mock_auth_require_header',
        ['development.mock_auth_require_header', 'development.enable_mock_auth'],
        'must be true when development.enable_mock_auth is true',
      );
    }
    const value = get('development.mock_auth_header_value');
    if (value === undefined || value === '') {
      add(
        'development.mock_auth_header_value',
        ['development.mock_auth_header_value', 'development.enable_mock_auth'],
        'must be a non-empty string when development.enable_mock_auth is true',
      );
    }
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function createConfigSchema(mode: ConfigMode) {
  return z.object(fields(), { error: typeError('must be a table') }).superRefine(
    (cfg, ctx) => {
      for (const p of crossCheck(cfg, mode)) {
        ctx.addIssue({ code: 'custom', message: p.message, path: p.path, params: { keys: p.keys } });
      }
    },
    { when: () => true },
  );
}

export type ConfigSchema = ReturnType<typeof createConfigSchema>;

// The explicit interface above is the documentation; this keeps it in step with the schema.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesInterface: Same<z.output<ConfigSchema>, AuthConfig> = true;
void schemaMatchesInterface;

/** A node of the key tree: a section (TOML table) or a leaf key. */
export type ConfigNode = { type: 'section'; children: ReadonlyMap<string, ConfigNode> } | { type: 'leaf'; kind: LeafKind };

function treeOf(schema: z.ZodObject): ConfigNode {
  const children = new Map<string, ConfigNode>();
  for (const [key, child] of Object.entries(schema.shape)) {
    const kind = leafKinds.get(child)?.kind;
    if (kind !== undefined) children.set(key, { type: 'leaf', kind });
    else if (child instanceof z.ZodObject) children.set(key, treeOf(child));
    else throw new Error(`config schema: ${key} is neither a section nor a registered leaf`);
  }
  return { type: 'section', children };
}

/** The key tree, the same in both modes. */
export const CONFIG_TREE: ConfigNode = treeOf(createConfigSchema('standalone'));

/** Every leaf key as a dotted path, with its kind. */
export const LEAF_KEYS: ReadonlyMap<string, LeafKind> = (() => {
  const out = new Map<string, LeafKind>();
  const walk = (node: ConfigNode, prefix: string) => {
    if (node.type === 'leaf') out.set(prefix, node.kind);
    else for (const [k, c] of node.children) walk(c, prefix ? `${prefix}.${k}` : k);
  };
  walk(CONFIG_TREE, '');
  return out;
})();
