import { describe, expect, it } from 'vitest';
import { configListing, redactUrl } from './check.js';
import { isConfigError } from './errors.js';
import { loadConfig, resolveEmbeddedConfig } from './load.js';
import { editDistance, suggestKey } from './suggest.js';

describe('did you mean (issue 12)', () => {
  it('edit distance', () => {
    expect(editDistance('issuer', 'isuer')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests the nearest key or section within a typo, and nothing for a different name', () => {
    expect(suggestKey('jwt.isuer')).toBe('jwt.issuer');
    expect(suggestKey('rate_limit.max_failure')).toBe('rate_limit.max_failures');
    expect(suggestKey('storag.path')).toBe('storage.path');
    expect(suggestKey('jwtt')).toBe('jwt');
    expect(suggestKey('jwt.client_id')).toBeUndefined();
    expect(suggestKey('account_proof')).toBeUndefined();
  });

  it('the warning carries the suggestion; an AUTH__ source is answered with the variable too', () => {
    const { warnings } = loadConfig({ env: { AUTH__JWT__ISUER: 'x' } });
    expect(warnings).toEqual([
      'unknown configuration key jwt.isuer (from AUTH__JWT__ISUER); ignored; did you mean jwt.issuer (AUTH__JWT__ISSUER)?',
    ]);
    expect(resolveEmbeddedConfig({ jwt: { isuer: 'x' } }).warnings).toEqual([
      'unknown configuration key jwt.isuer (from createAuth); ignored; did you mean jwt.issuer?',
    ]);
  });
});

describe('strict configuration', () => {
  const problems = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (e) {
      if (isConfigError(e)) return [...e.problems];
      throw e;
    }
    return [];
  };

  it('strict: unknown keys are problems (and no longer warnings), with the suggestion', () => {
    expect(problems(() => loadConfig({ env: { AUTH__JWT__ISUER: 'x' }, strict: true }))).toEqual([
      'invalid configuration: jwt.isuer (from AUTH__JWT__ISUER): unknown key, refused by --strict or server.strict_config; did you mean jwt.issuer (AUTH__JWT__ISSUER)?',
    ]);
  });

  it('server.strict_config = true from any layer does the same; false keeps warnings', () => {
    const env = { AUTH__SERVER__STRICT_CONFIG: 'true', AUTH__PROVIDERS__NEAR_WALLET: 'true' };
    expect(problems(() => loadConfig({ env }))).toEqual([
      'invalid configuration: providers.near_wallet (from AUTH__PROVIDERS__NEAR_WALLET): unknown provider, refused by --strict or server.strict_config',
    ]);
    expect(loadConfig({ env: { ...env, AUTH__SERVER__STRICT_CONFIG: 'false' } }).warnings).toEqual([
      'unknown provider providers.near_wallet (from AUTH__PROVIDERS__NEAR_WALLET); ignored',
    ]);
  });

  it('without unknown keys strict changes nothing', () => {
    expect(loadConfig({ env: {}, strict: true }).warnings).toEqual([]);
  });
});

describe('config check listing', () => {
  it('every key with its source; secrets redacted', () => {
    const { config, sources } = loadConfig({
      env: {
        AUTH__STORAGE__URL: 'postgres://auth:hunter2@db/auth',
        AUTH__DEVELOPMENT__MOCK_AUTH_HEADER_VALUE: 'Bearer top-secret',
      },
      bind: '127.0.0.1:9999',
    });
    const text = configListing(config, sources);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(sources.size);
    expect(lines[0]).toMatch(/^listen_addr = "127\.0\.0\.1:9999" +# from --bind$/);
    expect(text).toMatch(/\nstorage\.url = "postgres:\/\/auth:\[redacted\]@db\/auth" +# from AUTH__STORAGE__URL\n/);
    expect(text).toMatch(
      /\ndevelopment\.mock_auth_header_value = "\[redacted\]" +# from AUTH__DEVELOPMENT__MOCK_AUTH_HEADER_VALUE\n/,
    );
    expect(text).toMatch(/\n# metrics\.listen_addr \(unset\) +# from defaults\n/);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('top-secret');
  });

  it('redactUrl: only the password; an unparsable URL whole', () => {
    expect(redactUrl('postgres://u@h/db')).toBe('postgres://u@h/db');
    expect(redactUrl('postgresql://u:p%40ss@h:5432/db?sslmode=require')).toBe(
      'postgresql://u:[redacted]@h:5432/db?sslmode=require',
    );
    expect(redactUrl('not a url with secret')).toBe('[redacted]');
  });
});
