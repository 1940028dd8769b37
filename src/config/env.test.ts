import { describe, expect, it } from 'vitest';
import { coerceEnvValue, envLayer, envVarKey } from './env.js';

describe('envVarKey', () => {
  it('maps AUTH__ names case-insensitively, splitting on double underscores only', () => {
    expect(envVarKey('AUTH__JWT__ACCESS_TOKEN_EXPIRY')).toBe('jwt.access_token_expiry');
    expect(envVarKey('auth__Security__Headers__CSP__Enabled')).toBe('security.headers.csp.enabled');
    expect(envVarKey('AUTH__USER_PASSWORD__ARGON2__MEMORY_KIB')).toBe('user_password.argon2.memory_kib');
    expect(envVarKey('AUTH__LISTEN_ADDR')).toBe('listen_addr');
  });

  it('ignores other variables', () => {
    expect(envVarKey('AUTH_JWT__ISSUER')).toBeUndefined();
    expect(envVarKey('MERO_AUTH_SECRET_KEK')).toBeUndefined();
    expect(envVarKey('AUTH__')).toBeUndefined();
  });
});

describe('coerceEnvValue', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['On', true],
    ['false', false],
    ['0', false],
    ['NO', false],
    ['off', false],
  ])('bool %j → %j', (raw, value) => {
    expect(coerceEnvValue('bool', raw)).toEqual({ ok: true, value });
  });

  it('rejects other booleans', () => {
    expect(coerceEnvValue('bool', 'maybe')).toEqual({
      ok: false,
      message: 'not a boolean: "maybe" (use true/false, 1/0, yes/no or on/off)',
    });
  });

  it('integers are decimal', () => {
    expect(coerceEnvValue('int', '900')).toEqual({ ok: true, value: 900 });
    expect(coerceEnvValue('int', '-5')).toEqual({ ok: true, value: -5 });
    for (const bad of ['1.5', '0x10', '1e3', ' 9', 'abc', '99999999999999999999']) {
      expect(coerceEnvValue('int', bad)).toEqual({
        ok: false,
        message: `not an integer: ${JSON.stringify(bad)}`,
      });
    }
  });

  it('lists are JSON arrays', () => {
    expect(coerceEnvValue('list', '["https://a.example","https://b.example"]')).toEqual({
      ok: true,
      value: ['https://a.example', 'https://b.example'],
    });
    expect(coerceEnvValue('list', '[]')).toEqual({ ok: true, value: [] });
    expect(coerceEnvValue('list', 'https://a.example')).toEqual({
      ok: false,
      message: 'not a JSON array: "https://a.example" (write e.g. ["a","b"])',
    });
    expect(coerceEnvValue('list', '{"a":1}').ok).toBe(false);
  });

  it('strings are taken as-is', () => {
    expect(coerceEnvValue('string', ' spaced ')).toEqual({ ok: true, value: ' spaced ' });
  });

  it('an empty value unsets an optional string and is an error for anything else', () => {
    expect(coerceEnvValue('optional-string', '')).toEqual({ ok: true, value: undefined });
    for (const kind of ['bool', 'int', 'string', 'list'] as const) {
      expect(coerceEnvValue(kind, '')).toEqual({
        ok: false,
        message: 'must not be empty (only optional string keys can be unset)',
      });
    }
  });
});

describe('envLayer', () => {
  it('collects assignments, names the variable in problems, warns on unknown keys', () => {
    const layer = envLayer({
      AUTH__JWT__ISSUER: 'me',
      AUTH__JWT__LEEWAY_SECONDS: 'soon',
      AUTH__JWT__CLIENT_ID: 'x',
      AUTH__PROVIDERS__NEAR_WALLET: 'true',
      AUTH__USER_PASSWORD__BOOTSTRAP_SECRET: 'legacy',
      PATH: '/usr/bin',
      AUTH__UNSET: undefined,
    });
    expect(layer.assignments).toEqual([{ path: 'jwt.issuer', value: 'me', source: 'AUTH__JWT__ISSUER' }]);
    expect(layer.problems).toEqual([
      'invalid configuration: jwt.leeway_seconds (from AUTH__JWT__LEEWAY_SECONDS): not an integer: "soon"',
    ]);
    expect(layer.warnings).toEqual([
      'unknown configuration key jwt.client_id (from AUTH__JWT__CLIENT_ID); ignored',
      'unknown provider providers.near_wallet (from AUTH__PROVIDERS__NEAR_WALLET); ignored',
    ]);
  });

  it('a name that stops at a section or runs past a key is unknown', () => {
    const layer = envLayer({ AUTH__JWT: '1', AUTH__LISTEN_ADDR__PORT: '1' });
    expect(layer.assignments).toEqual([]);
    expect(layer.warnings).toEqual([
      'unknown configuration key jwt (from AUTH__JWT); ignored',
      'unknown configuration key listen_addr.port (from AUTH__LISTEN_ADDR__PORT); ignored',
    ]);
  });

  it('two spellings of one key: deterministic winner and a warning', () => {
    const layer = envLayer({ auth__jwt__issuer: 'lower', AUTH__JWT__ISSUER: 'upper' });
    expect(layer.assignments.at(-1)).toEqual({ path: 'jwt.issuer', value: 'lower', source: 'auth__jwt__issuer' });
    expect(layer.warnings).toEqual(['AUTH__JWT__ISSUER and auth__jwt__issuer both set jwt.issuer; auth__jwt__issuer wins']);
  });
});
