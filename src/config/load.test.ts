import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCsp } from './csp.js';
import { STANDALONE_DEFAULTS } from './defaults.js';
import { ConfigError } from './errors.js';
import { configFromPartial, defaultConfig, loadConfig, resolveEmbeddedConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'mero-auth-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function toml(text: string): string {
  const file = join(dir, `auth-${++n}.toml`);
  writeFileSync(file, text);
  return file;
}

/** The problems of a load that must fail. */
function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const err = e as ConfigError;
    expect(err.message).toBe(err.problems.join('\n'));
    return err.problems;
  }
  throw new Error('expected a ConfigError');
}

const load = (opts: Parameters<typeof loadConfig>[0] = {}) => loadConfig({ env: {}, ...opts });

describe('defaults', () => {
  it('standalone defaults are the §7.2 table', () => {
    const { config, warnings } = load();
    expect(warnings).toEqual([]);
    expect(config).toEqual({
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
      server: { trusted_proxies: ['127.0.0.0/8', '::1'], strict_config: false, threadpool_nice: 10 },
      forward_auth: { enforce_permissions: true },
      metrics: { listen_addr: undefined },
      frontend: { allowed_callback_origins: [] },
    });
    expect(defaultConfig('standalone')).toEqual(config);
  });

  it('the default CSP is the §2.5 string', () => {
    expect(buildCsp(defaultConfig().security.headers.csp)).toBe(
      "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; connect-src 'self' http://localhost:* http://host.docker.internal:* http://*.nip.io:* https://*.nip.io:* https: http:;",
    );
  });

  it('embedded defaults differ exactly as §7.6 says', () => {
    const standalone = defaultConfig('standalone');
    const embedded = defaultConfig('embedded');
    expect(embedded.jwt.access_token_expiry).toBe(3600);
    expect(embedded.storage).toEqual({
      type: 'level',
      path: 'auth',
      url: undefined,
      pool_size: 10,
      statement_timeout_ms: 5000,
      connect_timeout_ms: 5000,
      poll_interval_ms: 250,
      coherence_bound_ms: 1000,
    });
    expect(embedded.cors.allow_all_origins).toBe(false);
    expect(embedded.cors.allowed_headers).toEqual(['Authorization', 'Content-Type', 'Accept']);
    expect(embedded.cors.exposed_headers).toEqual([]);
    expect(embedded.metrics.listen_addr).toBeUndefined();
    // Everything else is shared.
    const strip = (c: typeof standalone) => ({
      ...c,
      jwt: { ...c.jwt, access_token_expiry: 0 },
      storage: null,
      cors: { ...c.cors, allow_all_origins: null, allowed_headers: null, exposed_headers: null },
    });
    expect(strip(embedded)).toEqual(strip(standalone));
  });

  it('defaultConfig returns a fresh object each time; the shared defaults are frozen', () => {
    const a = defaultConfig();
    a.cors.allowed_methods.push('PATCH');
    a.jwt.issuer = 'changed';
    expect(defaultConfig().cors.allowed_methods).toHaveLength(5);
    expect(defaultConfig().jwt.issuer).toBe('calimero-auth');
    expect(Object.isFrozen(STANDALONE_DEFAULTS.cors.allowed_methods)).toBe(true);
  });
});

describe('precedence: defaults < file < env < --bind', () => {
  const file = () =>
    toml(`
listen_addr = "10.0.0.1:4000"
[jwt]
issuer = "from-file"
access_token_expiry = 600
[storage]
path = "/var/lib/auth"
`);

  it('the file overrides defaults, keys it omits keep theirs', () => {
    const { config } = load({ file: file() });
    expect(config.listen_addr).toBe('10.0.0.1:4000');
    expect(config.jwt.issuer).toBe('from-file');
    expect(config.jwt.access_token_expiry).toBe(600);
    expect(config.jwt.refresh_token_expiry).toBe(2592000);
    expect(config.storage).toMatchObject({ type: 'level', path: '/var/lib/auth' });
  });

  it('the environment overrides the file, --bind overrides both', () => {
    const { config } = load({
      file: file(),
      env: { AUTH__JWT__ISSUER: 'from-env', AUTH__LISTEN_ADDR: '10.0.0.2:5000' },
      bind: '[::]:6000',
    });
    expect(config.jwt.issuer).toBe('from-env');
    expect(config.jwt.access_token_expiry).toBe(600);
    expect(config.listen_addr).toBe('[::]:6000');
  });

  it('the environment applies without a file', () => {
    const { config } = load({ env: { AUTH__STORAGE__TYPE: 'memory' } });
    expect(config.storage.type).toBe('memory');
  });

  it('reads process.env when no env is given', () => {
    process.env.AUTH__JWT__ISSUER = 'from-process-env';
    try {
      expect(loadConfig().config.jwt.issuer).toBe('from-process-env');
    } finally {
      delete process.env.AUTH__JWT__ISSUER;
    }
  });

  it('a bad --bind is named as such', () => {
    expect(problemsOf(() => load({ bind: 'localhost:3001' }))).toEqual([
      'invalid configuration: listen_addr (from --bind): not an ip:port address: "localhost:3001"',
    ]);
  });
});

describe('environment coercion through the loader', () => {
  it('coerces booleans, integers, lists and strings to the key types', () => {
    const { config } = load({
      env: {
        AUTH__CORS__ALLOW_ALL_ORIGINS: 'no',
        AUTH__SECURITY__HEADERS__CSP__ENABLED: 'off',
        AUTH__PROVIDERS__USER_PASSWORD: '0',
        AUTH__FORWARD_AUTH__ENFORCE_PERMISSIONS: 'On',
        AUTH__JWT__ACCESS_TOKEN_EXPIRY: '900',
        AUTH__USER_PASSWORD__ARGON2__MEMORY_KIB: '47104',
        AUTH__USER_PASSWORD__ARGON2__ITERATIONS: '1',
        AUTH__CORS__ALLOWED_ORIGINS: '["https://app.example.com","http://localhost:5173"]',
        AUTH__SERVER__TRUSTED_PROXIES: '["10.0.0.0/8","::1"]',
        AUTH__JWT__NODE_HOST: 'node.example.com',
      },
    });
    expect(config.cors.allow_all_origins).toBe(false);
    expect(config.security.headers.csp.enabled).toBe(false);
    expect(config.providers.user_password).toBe(false);
    expect(config.forward_auth.enforce_permissions).toBe(true);
    expect(config.jwt.access_token_expiry).toBe(900);
    expect(config.user_password.argon2).toEqual({ memory_kib: 47104, iterations: 1, parallelism: 1 });
    expect(config.cors.allowed_origins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(config.server.trusted_proxies).toEqual(['10.0.0.0/8', '::1']);
    expect(config.jwt.node_host).toBe('node.example.com');
  });

  it('an empty value unsets an optional string set by the file', () => {
    const file = toml(`
[jwt]
node_host = "node.example.com"
[metrics]
listen_addr = "127.0.0.1:9090"
`);
    expect(load({ file }).config.metrics.listen_addr).toBe('127.0.0.1:9090');
    const { config } = load({ file, env: { AUTH__JWT__NODE_HOST: '', AUTH__METRICS__LISTEN_ADDR: '' } });
    expect(config.jwt.node_host).toBeUndefined();
    expect(config.metrics.listen_addr).toBeUndefined();
  });

  it('an empty value for any other key is an error naming the variable', () => {
    expect(problemsOf(() => load({ env: { AUTH__JWT__ISSUER: '', AUTH__RATE_LIMIT__MAX_FAILURES: '' } }))).toEqual([
      'invalid configuration: jwt.issuer (from AUTH__JWT__ISSUER): must not be empty (only optional string keys can be unset)',
      'invalid configuration: rate_limit.max_failures (from AUTH__RATE_LIMIT__MAX_FAILURES): must not be empty (only optional string keys can be unset)',
    ]);
  });

  it('a coerced value still meets the key rule', () => {
    expect(problemsOf(() => load({ env: { AUTH__JWT__ACCESS_TOKEN_EXPIRY: '-5' } }))).toEqual([
      'invalid configuration: jwt.access_token_expiry (from AUTH__JWT__ACCESS_TOKEN_EXPIRY): must be a positive integer',
    ]);
    expect(problemsOf(() => load({ env: { AUTH__CORS__ALLOWED_METHODS: '["GET", 7]' } }))).toEqual([
      'invalid configuration: cors.allowed_methods[1] (from AUTH__CORS__ALLOWED_METHODS): must be a string, got number 7',
    ]);
  });
});

describe('errors', () => {
  it('reports every problem at once, each naming key and source (§7.3)', () => {
    const file = toml(`
[jwt]
access_token_expiry = 0
leeway_seconds = 301
refresh_reuse_grace_seconds = 61
session_max_age = -1
issuer = ""
[cors]
allowed_origins = ["https://ok.example", "example.com"]
allowed_methods = ["GET", "GE T"]
allowed_headers = ["Authorization", "X Bad"]
[security]
max_body_size = 0
[security.headers]
hsts_max_age = -1
[server]
trusted_proxies = ["10.0.0.0/8", "10.0.0.0/33", "not-an-ip"]
[frontend]
allowed_callback_origins = ["tauri://localhost", "nope"]
[rate_limit]
window_seconds = 0
max_failures = -1
`);
    expect(problemsOf(() => load({ file, env: { AUTH__STORAGE__TYPE: 'sqlite' } }))).toEqual([
      `invalid configuration: jwt.issuer (from ${file}): must be a non-empty string`,
      `invalid configuration: jwt.access_token_expiry (from ${file}): must be a positive integer`,
      `invalid configuration: jwt.leeway_seconds (from ${file}): must be an integer between 0 and 300`,
      `invalid configuration: jwt.refresh_reuse_grace_seconds (from ${file}): must be an integer between 0 and 60`,
      `invalid configuration: jwt.session_max_age (from ${file}): must be an integer between 0 and 315360000`,
      'invalid configuration: storage.type (from AUTH__STORAGE__TYPE): must be one of "level", "rocksdb", "memory", "postgres", got "sqlite"',
      `invalid configuration: cors.allowed_origins[1] (from ${file}): not an origin: "example.com"`,
      `invalid configuration: cors.allowed_methods[1] (from ${file}): not an HTTP method: "GE T"`,
      `invalid configuration: cors.allowed_headers[1] (from ${file}): not a header name: "X Bad"`,
      `invalid configuration: security.max_body_size (from ${file}): must be a positive integer`,
      `invalid configuration: security.headers.hsts_max_age (from ${file}): must be a non-negative integer`,
      `invalid configuration: rate_limit.max_failures (from ${file}): must be a non-negative integer`,
      `invalid configuration: rate_limit.window_seconds (from ${file}): must be a positive integer`,
      `invalid configuration: server.trusted_proxies[1] (from ${file}): not an IP address or CIDR: "10.0.0.0/33"`,
      `invalid configuration: server.trusted_proxies[2] (from ${file}): not an IP address or CIDR: "not-an-ip"`,
      `invalid configuration: frontend.allowed_callback_origins[0] (from ${file}): not an http or https origin: "tauri://localhost"`,
      `invalid configuration: frontend.allowed_callback_origins[1] (from ${file}): not an origin: "nope"`,
    ]);
  });

  it('wrong TOML types say what was found', () => {
    const file = toml(`
listen_addr = 3001
jwt = "oops"
[cors]
allow_all_origins = "true"
allowed_origins = "https://a.example"
max_age = 1.5
[security.headers]
frame_options = 1979-05-27
`);
    expect(problemsOf(() => load({ file }))).toEqual([
      `invalid configuration: jwt (from ${file}): must be a table`,
      `invalid configuration: listen_addr (from ${file}): must be a string, got number 3001`,
      `invalid configuration: cors.allow_all_origins (from ${file}): must be a boolean, got string "true"`,
      `invalid configuration: cors.allowed_origins (from ${file}): must be an array of strings, got string "https://a.example"`,
      `invalid configuration: cors.max_age (from ${file}): must be a non-negative integer`,
      `invalid configuration: security.headers.frame_options (from ${file}): must be a string, got a date`,
    ]);
  });

  it('header values and CSP sources must be valid header values', () => {
    expect(
      problemsOf(() =>
        load({
          env: {
            AUTH__SECURITY__HEADERS__REFERRER_POLICY: 'no-referrer\r\nX-Evil: 1',
            AUTH__SECURITY__HEADERS__CSP__CONNECT_SRC: `["'self'", "https://caf\u00e9.example"]`,
          },
        }),
      ),
    ).toEqual([
      'invalid configuration: security.headers.referrer_policy (from AUTH__SECURITY__HEADERS__REFERRER_POLICY): not a valid header value: "no-referrer\\r\\nX-Evil: 1"',
      'invalid configuration: security.headers.csp.connect_src[1] (from AUTH__SECURITY__HEADERS__CSP__CONNECT_SRC): not a valid header value: "https://café.example"',
    ]);
  });

  it('access expiry must be below refresh expiry; the message names both sources', () => {
    const file = toml('[jwt]\nrefresh_token_expiry = 3600\n');
    expect(problemsOf(() => load({ file, env: { AUTH__JWT__ACCESS_TOKEN_EXPIRY: '3600' } }))).toEqual([
      `invalid configuration: jwt.access_token_expiry (from AUTH__JWT__ACCESS_TOKEN_EXPIRY, ${file}): must be less than jwt.refresh_token_expiry (3600)`,
    ]);
  });

  it('max password length must exceed the minimum', () => {
    expect(problemsOf(() => configFromPartial({ user_password: { min_password_length: 12, max_password_length: 12 } }))).toEqual([
      'invalid configuration: user_password.max_password_length (from test): must be greater than user_password.min_password_length (12)',
    ]);
    expect(problemsOf(() => configFromPartial({ user_password: { min_password_length: 0 } }))).toEqual([
      'invalid configuration: user_password.min_password_length (from test): must be a positive integer',
    ]);
  });

  describe('passkey provider (issue 13): refused at start when RP ID and origins disagree', () => {
    const passkey = (p: Record<string, unknown>) => () =>
      configFromPartial({ providers: { passkey: { enabled: true, ...p } } } as never);
    it('needs an RP ID and at least one origin', () => {
      expect(problemsOf(passkey({ origins: ['https://node.example.com'] }))).toEqual([
        'invalid configuration: providers.passkey.rp_id (from test): must be set when providers.passkey.enabled is true',
      ]);
      expect(problemsOf(passkey({ rp_id: 'example.com' }))).toEqual([
        'invalid configuration: providers.passkey.origins (from test): must list at least one origin when providers.passkey.enabled is true',
      ]);
    });
    it('refuses an origin off the RP ID, a plain-http origin off localhost, and an RP ID with a scheme', () => {
      expect(problemsOf(passkey({ rp_id: 'example.com', origins: ['https://evil-example.com'] }))).toEqual([
        'invalid configuration: providers.passkey.origins (from test): origin https://evil-example.com is not on the RP ID "example.com" (its host must be example.com or end in .example.com)',
      ]);
      expect(problemsOf(passkey({ rp_id: 'example.com', origins: ['http://node.example.com'] }))).toEqual([
        'invalid configuration: providers.passkey.origins (from test): origin http://node.example.com must use https (browsers allow passkeys over http only on localhost)',
      ]);
      expect(problemsOf(passkey({ rp_id: 'https://example.com', origins: ['https://example.com'] }))).toEqual([
        'invalid configuration: providers.passkey.rp_id (from test): not a domain name (an RP ID has no scheme, port or path): "https://example.com"',
      ]);
    });
    it('accepts a subdomain origin and http on localhost', () => {
      const cfg = configFromPartial({
        providers: {
          passkey: { enabled: true, rp_id: 'example.com', origins: ['https://node.example.com:8443', 'https://example.com'] },
        },
      } as never);
      expect(cfg.providers.passkey.origins).toEqual(['https://node.example.com:8443', 'https://example.com']);
      const local = configFromPartial({
        providers: { passkey: { enabled: true, rp_id: 'localhost', origins: ['http://localhost:3001'] } },
      } as never);
      expect(local.providers.passkey.rp_id).toBe('localhost');
    });
    it('a disabled provider is not checked', () => {
      expect(
        configFromPartial({ providers: { passkey: { origins: ['https://x.test'] } } } as never).providers.passkey.enabled,
      ).toBe(false);
    });
  });

  it('argon2 parameters below the OWASP floor', () => {
    expect(problemsOf(() => configFromPartial({ user_password: { argon2: { memory_kib: 7168, iterations: 4 } } }))).toEqual([
      'invalid configuration: user_password.argon2 (from test): memory_kib = 7168 with iterations = 4 is below the OWASP floor; (memory_kib, iterations) must be at least one of (47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5)',
    ]);
    expect(problemsOf(() => configFromPartial({ user_password: { argon2: { parallelism: 0 } } }))).toEqual([
      'invalid configuration: user_password.argon2.parallelism (from test): must be a positive integer',
    ]);
    // The pairs the tests of other modules use are accepted.
    expect(configFromPartial({ user_password: { argon2: { memory_kib: 7168, iterations: 5 } } }).user_password.argon2).toEqual({
      memory_kib: 7168,
      iterations: 5,
      parallelism: 1,
    });
  });

  it('secrets: interval at least 3600, grace above the interval', () => {
    expect(problemsOf(() => configFromPartial({ secrets: { rotation_interval_seconds: 3599 } }))).toEqual([
      'invalid configuration: secrets.rotation_interval_seconds (from test): must be an integer of at least 3600',
    ]);
    expect(
      problemsOf(() => configFromPartial({ secrets: { rotation_interval_seconds: 7200, grace_period_seconds: 7200 } })),
    ).toEqual([
      'invalid configuration: secrets.grace_period_seconds (from test): must be greater than secrets.rotation_interval_seconds (7200)',
    ]);
  });

  it('jwt.algorithm is one of HS256, EdDSA, ES256 (case matters), from the file or AUTH__JWT__ALGORITHM', () => {
    const file = toml('[jwt]\nalgorithm = "ES256"\n');
    expect(load({ file }).config.jwt.algorithm).toBe('ES256');
    expect(load({ env: { AUTH__JWT__ALGORITHM: 'EdDSA' } }).config.jwt.algorithm).toBe('EdDSA');
    expect(load().config.jwt.algorithm).toBe('HS256');
    expect(problemsOf(() => load({ env: { AUTH__JWT__ALGORITHM: 'RS256' } }))).toEqual([
      'invalid configuration: jwt.algorithm (from AUTH__JWT__ALGORITHM): must be one of "HS256", "EdDSA", "ES256", got "RS256"',
    ]);
    expect(problemsOf(() => load({ file: toml('[jwt]\nalgorithm = "eddsa"\n') }))).toHaveLength(1);
    expect(problemsOf(() => configFromPartial({ jwt: { algorithm: 'none' as never } }))).toEqual([
      'invalid configuration: jwt.algorithm (from test): must be one of "HS256", "EdDSA", "ES256", got "none"',
    ]);
  });

  it('metrics.listen_addr must be an ip:port and differ from listen_addr', () => {
    expect(problemsOf(() => load({ env: { AUTH__METRICS__LISTEN_ADDR: 'metrics:9090' } }))).toEqual([
      'invalid configuration: metrics.listen_addr (from AUTH__METRICS__LISTEN_ADDR): not an ip:port address: "metrics:9090"',
    ]);
    expect(problemsOf(() => load({ env: { AUTH__METRICS__LISTEN_ADDR: '127.0.0.1:4000' }, bind: '0.0.0.0:4000' }))).toEqual([
      'invalid configuration: metrics.listen_addr (from AUTH__METRICS__LISTEN_ADDR, --bind): must differ from listen_addr (0.0.0.0:4000)',
    ]);
    expect(load({ env: { AUTH__METRICS__LISTEN_ADDR: '127.0.0.1:9090' } }).config.metrics.listen_addr).toBe('127.0.0.1:9090');
    // Ephemeral ports (tests) never collide.
    expect(load({ bind: '127.0.0.1:0', env: { AUTH__METRICS__LISTEN_ADDR: '127.0.0.1:0' } }).config.listen_addr).toBe(
      '127.0.0.1:0',
    );
  });

  it('mock auth needs require_header = true and a non-empty header value (§3.9)', () => {
    const file = toml(`
[development]
enable_mock_auth = true
mock_auth_require_header = false
mock_auth_header_value = ""
`);
    expect(problemsOf(() => load({ file }))).toEqual([
      `invalid configuration: development.mock_auth_require_header (from ${file}): must be true when development.enable_mock_auth is true`,
      `invalid configuration: development.mock_auth_header_value (from ${file}): must be a non-empty string when development.enable_mock_auth is true`,
    ]);
    expect(problemsOf(() => load({ env: { AUTH__DEVELOPMENT__ENABLE_MOCK_AUTH: 'true' } }))).toEqual([
      'invalid configuration: development.mock_auth_header_value (from AUTH__DEVELOPMENT__ENABLE_MOCK_AUTH): must be a non-empty string when development.enable_mock_auth is true',
    ]);
    const ok = load({
      env: {
        AUTH__DEVELOPMENT__ENABLE_MOCK_AUTH: 'true',
        AUTH__DEVELOPMENT__MOCK_AUTH_HEADER_VALUE: 'Bearer test-auth-token',
      },
    });
    expect(ok.config.development).toEqual({
      enable_mock_auth: true,
      mock_auth_require_header: true,
      mock_auth_header_value: 'Bearer test-auth-token',
    });
    expect(ok.warnings).toEqual([
      'development.enable_mock_auth (from AUTH__DEVELOPMENT__ENABLE_MOCK_AUTH) is true: POST /auth/mock-token mints admin tokens; never enable it in production',
    ]);
  });

  it('a missing file is a ConfigError, and environment problems are still reported', () => {
    const missing = join(dir, 'does-not-exist.toml');
    expect(problemsOf(() => load({ file: missing, env: { AUTH__JWT__LEEWAY_SECONDS: 'x' } }))).toEqual([
      `invalid configuration: ${missing}: cannot read the configuration file: ENOENT: no such file or directory`,
      'invalid configuration: jwt.leeway_seconds (from AUTH__JWT__LEEWAY_SECONDS): not an integer: "x"',
    ]);
  });

  it('an unreadable path (a directory) is a ConfigError', () => {
    expect(problemsOf(() => load({ file: dir }))).toEqual([
      `invalid configuration: ${dir}: cannot read the configuration file: EISDIR: illegal operation on a directory`,
    ]);
  });

  it('TOML syntax errors carry line and column', () => {
    const file = toml('listen_addr = "0.0.0.0:3001"\n[jwt]\nissuer = calimero\n');
    expect(problemsOf(() => load({ file }))).toEqual([
      `invalid configuration: ${file}: TOML syntax error at line 3, column 10: invalid value`,
    ]);
  });
});

describe('warnings', () => {
  it('unknown keys anywhere name the dotted path; legacy Rust keys are accepted quietly', () => {
    const file = toml(`
[jwt]
client_id = "x"
[account_proof]
enabled = true
[providers]
user_password = true
near_wallet = true
[user_password]
bootstrap_secret = "legacy"
[cors]
exposed_headers = ["X-Auth-Error"]
max_age = 600
vary_header = false
[security.headers.csp]
frame_ancestors = ["'none'"]
`);
    const { config, warnings } = load({ file, env: { AUTH__STORAGE__ENGINE: 'x' } });
    expect(warnings).toEqual([
      `unknown configuration key jwt.client_id (from ${file}); ignored`,
      `unknown configuration key account_proof (from ${file}); ignored`,
      `unknown provider providers.near_wallet (from ${file}); ignored`,
      `unknown configuration key security.headers.csp.frame_ancestors (from ${file}); ignored`,
      'unknown configuration key storage.engine (from AUTH__STORAGE__ENGINE); ignored',
    ]);
    expect(config.cors.max_age).toBe(600);
    expect(config.cors.vary_header).toBe(false);
    expect(config.user_password).not.toHaveProperty('bootstrap_secret');
  });

  it('rate_limit.max_failures = 0 disables the limiter, with a warning', () => {
    const { config, warnings } = load({ env: { AUTH__RATE_LIMIT__MAX_FAILURES: '0' } });
    expect(config.rate_limit.max_failures).toBe(0);
    expect(warnings).toEqual([
      'rate_limit.max_failures (from AUTH__RATE_LIMIT__MAX_FAILURES) is 0: the per-identity login rate limiter is disabled',
    ]);
  });

  it('warns when grace − interval is shorter than the refresh lifetime', () => {
    const { warnings } = load({
      env: {
        AUTH__SECRETS__ROTATION_INTERVAL_SECONDS: '86400',
        AUTH__SECRETS__GRACE_PERIOD_SECONDS: '172800',
      },
    });
    expect(warnings).toEqual([
      'secrets.grace_period_seconds - secrets.rotation_interval_seconds (from AUTH__SECRETS__ROTATION_INTERVAL_SECONDS, AUTH__SECRETS__GRACE_PERIOD_SECONDS) = 86400 is less than jwt.refresh_token_expiry (2592000): refresh tokens minted just before a rotation stop verifying before they expire',
    ]);
    // Exactly equal (the defaults) is fine.
    expect(load().warnings).toEqual([]);
  });
});

describe('aliases and partial sections', () => {
  it('storage.type rocksdb is level', () => {
    const file = toml('[storage]\ntype = "rocksdb"\npath = "/data/auth"\n');
    expect(load({ file }).config.storage).toMatchObject({ type: 'level', path: '/data/auth' });
    expect(load({ env: { AUTH__STORAGE__TYPE: 'rocksdb' } }).config.storage.type).toBe('level');
    expect(configFromPartial({ storage: { type: 'rocksdb' } }).storage.type).toBe('level');
  });

  it('a section with one key keeps the defaults of the others (unlike Rust)', () => {
    const file = toml('[cors]\nallow_all_origins = false\n[providers]\n[development]\nenable_mock_auth = false\n');
    const { config } = load({ file });
    expect(config.cors.allow_all_origins).toBe(false);
    expect(config.cors.allowed_methods).toEqual(['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS']);
    expect(config.cors.allowed_headers).toEqual(['Authorization', 'Content-Type', 'Accept', 'X-CSRF-Token']);
    expect(config.providers.user_password).toBe(true);
    expect(config.development.mock_auth_require_header).toBe(true);
  });

  it('origins are normalised to the form a browser sends', () => {
    const { config } = load({
      env: {
        AUTH__CORS__ALLOWED_ORIGINS: '["HTTPS://App.Example.com:443","http://localhost:5173"]',
        AUTH__FRONTEND__ALLOWED_CALLBACK_ORIGINS: '["http://Example.com:80"]',
      },
    });
    expect(config.cors.allowed_origins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(config.frontend.allowed_callback_origins).toEqual(['http://example.com']);
  });
});

describe('embedded (createAuth)', () => {
  it('applies embedded defaults and ignores AUTH__ variables', () => {
    process.env.AUTH__JWT__ISSUER = 'from-env';
    try {
      const { config, warnings } = resolveEmbeddedConfig({ storage: { path: '/node/auth' } });
      expect(config.jwt.issuer).toBe('calimero-auth');
      expect(config.jwt.access_token_expiry).toBe(3600);
      expect(config.storage).toMatchObject({ type: 'level', path: '/node/auth' });
      expect(config.cors.allow_all_origins).toBe(false);
      expect(warnings).toEqual([]);
    } finally {
      delete process.env.AUTH__JWT__ISSUER;
    }
  });

  it('undefined and an absent object mean defaults', () => {
    expect(resolveEmbeddedConfig(undefined).config).toEqual(defaultConfig('embedded'));
    expect(resolveEmbeddedConfig({ jwt: { node_host: undefined } }).config).toEqual(defaultConfig('embedded'));
  });

  it('problems name createAuth as the source; unknown keys warn', () => {
    expect(
      problemsOf(() => resolveEmbeddedConfig({ jwt: { access_token_expiry: '3600' }, cors: { allowed_origins: ['x'] } })),
    ).toEqual([
      'invalid configuration: jwt.access_token_expiry (from createAuth): must be a positive integer, got string "3600"',
      'invalid configuration: cors.allowed_origins[0] (from createAuth): not an origin: "x"',
    ]);
    expect(resolveEmbeddedConfig({ accountProof: {} }).warnings).toEqual([
      'unknown configuration key accountProof (from createAuth); ignored',
    ]);
    expect(problemsOf(() => resolveEmbeddedConfig('auth.toml'))).toEqual([
      'invalid configuration: createAuth: the configuration must be an object',
    ]);
  });

  it('listen_addr is unused embedded, so metrics may take its port', () => {
    const config = configFromPartial({ metrics: { listen_addr: '127.0.0.1:3001' } }, 'embedded');
    expect(config.metrics.listen_addr).toBe('127.0.0.1:3001');
  });
});

describe('configFromPartial', () => {
  it('builds a full config from a small override', () => {
    const config = configFromPartial({ storage: { type: 'memory' }, jwt: { leeway_seconds: 0 } });
    expect(config.storage).toMatchObject({ type: 'memory', path: './data/auth' });
    expect(config.jwt.leeway_seconds).toBe(0);
    expect(config.jwt.issuer).toBe('calimero-auth');
  });

  it('uses the embedded defaults and the createAuth label in embedded mode', () => {
    expect(configFromPartial({}, 'embedded').jwt.access_token_expiry).toBe(3600);
    expect(problemsOf(() => configFromPartial({ jwt: { issuer: '' } }, 'embedded'))).toEqual([
      'invalid configuration: jwt.issuer (from createAuth): must be a non-empty string',
    ]);
  });
});

describe('storage.type postgres', () => {
  const URL_A = 'postgres://mero:pw@db-a:5432/auth';
  const URL_B = 'postgresql://mero@db-b/auth';

  it('takes storage.url from the file, then AUTH__STORAGE__URL, with DATABASE_URL only as the fallback', () => {
    const file = toml(`[storage]\ntype = "postgres"\nurl = "${URL_A}"\n`);
    expect(load({ file, env: { DATABASE_URL: URL_B } }).config.storage.url).toBe(URL_A);
    expect(load({ file, env: { AUTH__STORAGE__URL: URL_B } }).config.storage.url).toBe(URL_B);
    const bare = toml('[storage]\ntype = "postgres"\nurl = ""\n');
    expect(load({ file: bare, env: { DATABASE_URL: URL_B } }).config.storage.url).toBe(URL_B);
    expect(load({ env: { AUTH__STORAGE__TYPE: 'postgres', DATABASE_URL: URL_B } }).config.storage.url).toBe(URL_B);
  });

  it('requires a URL, and a postgres one', () => {
    expect(() => load({ env: { AUTH__STORAGE__TYPE: 'postgres' } })).toThrow(
      'invalid configuration: storage.url (from AUTH__STORAGE__TYPE): is required when storage.type is "postgres" (or set DATABASE_URL)',
    );
    expect(() => load({ env: { AUTH__STORAGE__URL: 'mysql://x/y' } })).toThrow(
      'invalid configuration: storage.url (from AUTH__STORAGE__URL): not a postgres://user:password@host:port/database URL: "mysql://x/y"',
    );
  });

  it('keeps the poll interval below the coherence bound', () => {
    expect(() => load({ env: { AUTH__STORAGE__POLL_INTERVAL_MS: '1000' } })).toThrow(
      'invalid configuration: storage.poll_interval_ms (from AUTH__STORAGE__POLL_INTERVAL_MS): must be less than storage.coherence_bound_ms (1000)',
    );
  });
});
