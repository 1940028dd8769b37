import { describe, expect, it } from 'vitest';
import { defaultValues } from './defaults.js';
import { createConfigSchema, LEAF_KEYS, OPTIONAL_STRING_KEYS } from './schema.js';

describe('key tree', () => {
  it('derives each key kind from the schema', () => {
    expect(LEAF_KEYS.get('listen_addr')).toBe('string');
    expect(LEAF_KEYS.get('jwt.access_token_expiry')).toBe('int');
    expect(LEAF_KEYS.get('security.headers.csp.enabled')).toBe('bool');
    expect(LEAF_KEYS.get('security.headers.csp.connect_src')).toBe('list');
    expect(LEAF_KEYS.get('storage.type')).toBe('string');
    expect(LEAF_KEYS.has('jwt')).toBe(false);
    expect(LEAF_KEYS.has('user_password.bootstrap_secret')).toBe(false);
  });

  it('the optional strings are exactly those of §7.4, and storage.url', () => {
    const optional = [...LEAF_KEYS].filter(([, kind]) => kind === 'optional-string').map(([k]) => k);
    expect(optional.sort()).toEqual([...OPTIONAL_STRING_KEYS].sort());
  });

  it('holds every key of the §7.2 tables, and nothing else', () => {
    expect([...LEAF_KEYS.keys()]).toEqual([
      'listen_addr',
      'jwt.issuer',
      'jwt.access_token_expiry',
      'jwt.refresh_token_expiry',
      'jwt.node_host',
      'jwt.leeway_seconds',
      'jwt.refresh_reuse_grace_seconds',
      'jwt.session_max_age',
      'jwt.verified_cache_mb',
      'jwt.algorithm',
      'storage.type',
      'storage.path',
      'storage.url',
      'storage.pool_size',
      'storage.statement_timeout_ms',
      'storage.connect_timeout_ms',
      'storage.poll_interval_ms',
      'storage.coherence_bound_ms',
      'cors.allow_all_origins',
      'cors.allowed_origins',
      'cors.allowed_methods',
      'cors.allowed_headers',
      'cors.exposed_headers',
      'cors.max_age',
      'cors.vary_header',
      'security.max_body_size',
      'security.headers.enabled',
      'security.headers.hsts_max_age',
      'security.headers.hsts_include_subdomains',
      'security.headers.frame_options',
      'security.headers.content_type_options',
      'security.headers.referrer_policy',
      'security.headers.csp.enabled',
      'security.headers.csp.default_src',
      'security.headers.csp.script_src',
      'security.headers.csp.style_src',
      'security.headers.csp.connect_src',
      'providers.user_password',
      'providers.passkey.enabled',
      'providers.passkey.rp_id',
      'providers.passkey.rp_name',
      'providers.passkey.origins',
      'providers.passkey.challenge_ttl_seconds',
      'second_factor.totp_issuer',
      'second_factor.reauth_seconds',
      'user_password.min_password_length',
      'user_password.max_password_length',
      'user_password.argon2.memory_kib',
      'user_password.argon2.iterations',
      'user_password.argon2.parallelism',
      'development.enable_mock_auth',
      'development.mock_auth_require_header',
      'development.mock_auth_header_value',
      'secrets.rotation_interval_seconds',
      'secrets.grace_period_seconds',
      'rate_limit.max_failures',
      'rate_limit.window_seconds',
      'rate_limit.per_address_max_failures',
      'server.trusted_proxies',
      'server.strict_config',
      'server.threadpool_nice',
      'forward_auth.enforce_permissions',
      'metrics.listen_addr',
      'frontend.allowed_callback_origins',
    ]);
  });
});

describe('createConfigSchema', () => {
  it('accepts the raw defaults of both modes', () => {
    expect(createConfigSchema('standalone').safeParse(defaultValues('standalone')).success).toBe(true);
    expect(createConfigSchema('embedded').safeParse(defaultValues('embedded')).success).toBe(true);
  });

  it('non-finite numbers (TOML inf/nan) are not integers', () => {
    const raw = defaultValues('standalone');
    const result = createConfigSchema('standalone').safeParse({
      ...raw,
      jwt: { ...raw.jwt, refresh_token_expiry: Infinity },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['jwt.refresh_token_expiry', 'must be a positive integer, got number Infinity'],
    ]);
  });
});
