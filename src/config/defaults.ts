/**
 * Default values, per key and independent of which sections a file has (wire-contract §7.2).
 * Standalone: the Rust service's shipped `config.toml`, storage aside. Embedded (`createAuth`,
 * §7.6): the Rust embedded defaults where they differ.
 */
import type { AuthConfig, ConfigMode } from './schema.js';

export const STANDALONE_DEFAULTS: AuthConfig = deepFreeze({
  listen_addr: '127.0.0.1:3001',
  jwt: {
    issuer: 'calimero-auth',
    access_token_expiry: 1800,
    refresh_token_expiry: 2592000,
    node_host: undefined,
    leeway_seconds: 60,
    refresh_reuse_grace_seconds: 0,
    session_max_age: 2592000,
    verified_cache_mb: 0,
    algorithm: 'HS256',
  },
  storage: {
    type: 'level',
    path: './data/auth',
    url: undefined,
    pool_size: 10,
    statement_timeout_ms: 5000,
    connect_timeout_ms: 5000,
    poll_interval_ms: 250,
    coherence_bound_ms: 1000,
  },
  cors: {
    allow_all_origins: true,
    allowed_origins: [],
    allowed_methods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    allowed_headers: ['Authorization', 'Content-Type', 'Accept', 'X-CSRF-Token'],
    exposed_headers: ['X-Auth-Error'],
    max_age: 100,
    vary_header: true,
  },
  security: {
    max_body_size: 1048576,
    headers: {
      enabled: true,
      hsts_max_age: 31536000,
      hsts_include_subdomains: true,
      frame_options: 'DENY',
      content_type_options: 'nosniff',
      referrer_policy: 'strict-origin-when-cross-origin',
      csp: {
        enabled: true,
        default_src: ["'self'"],
        script_src: ["'self'", "'unsafe-inline'", "'unsafe-eval'"],
        style_src: ["'self'", "'unsafe-inline'"],
        connect_src: [
          "'self'",
          'http://localhost:*',
          'http://host.docker.internal:*',
          'http://*.nip.io:*',
          'https://*.nip.io:*',
          'https:',
          'http:',
        ],
      },
    },
  },
  providers: {
    user_password: true,
    passkey: { enabled: false, rp_id: undefined, rp_name: 'mero-auth', origins: [], challenge_ttl_seconds: 120 },
  },
  second_factor: { totp_issuer: 'mero-auth', reauth_seconds: 300 },
  user_password: {
    min_password_length: 8,
    max_password_length: 128,
    argon2: { memory_kib: 19456, iterations: 2, parallelism: 1 },
  },
  development: {
    enable_mock_auth: false,
    mock_auth_require_header: true,
    mock_auth_header_value: undefined,
  },
  secrets: { rotation_interval_seconds: 2592000, grace_period_seconds: 5184000 },
  rate_limit: { max_failures: 5, window_seconds: 60, per_address_max_failures: 20 },
  // Loopback: the shipped nginx/Caddy/Traefik configurations proxy from the same host.
  // threadpool_nice: hashes and store work yield to the event loop when the cores are saturated.
  server: { trusted_proxies: ['127.0.0.0/8', '::1'], strict_config: false, threadpool_nice: 10 },
  forward_auth: { enforce_permissions: true },
  metrics: { listen_addr: undefined },
  frontend: { allowed_callback_origins: [] },
});

/** Only the keys whose embedded default differs (§7.6). */
export const EMBEDDED_OVERRIDES = {
  jwt: { access_token_expiry: 3600 },
  storage: { type: 'level', path: 'auth' },
  cors: {
    // The host's CORS layer decides; ours then adds only Expose-Headers and Vary.
    allow_all_origins: false,
    allowed_headers: ['Authorization', 'Content-Type', 'Accept'],
    exposed_headers: [],
  },
} as const;

// Shared by every caller: frozen so no test or module can change another's defaults.
function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return structuredClone(over);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The raw default values of a mode (not yet normalised by the schema). */
export function defaultValues(mode: ConfigMode): AuthConfig {
  const base = structuredClone(STANDALONE_DEFAULTS);
  return mode === 'embedded' ? (deepMerge(base, EMBEDDED_OVERRIDES) as AuthConfig) : base;
}
