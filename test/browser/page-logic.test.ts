/**
 * The login page's decisions as pure functions (frontend/src/callback.ts, permissions.ts), in
 * Node: which callbacks are trusted, the exact hand-off URL, the node_url, and how requested
 * permissions are read and described. No browser needed.
 */
import { describe, expect, it } from 'vitest';
import {
  checkCallback,
  denyUrl,
  handOffUrl,
  isLoopbackHost,
  nodeUrl,
  parseOriginList,
  readParams,
} from '../../frontend/src/callback.js';
import { displayMessage, LANGUAGES, parts, pickLanguage, setLanguage, t } from '../../frontend/src/i18n.js';
import { describePermission, requestedPermissions, splitPermissions } from '../../frontend/src/permissions.js';

const PAGE = 'https://node.example.com';

describe('checkCallback (wire §9: checked before the sign-in form)', () => {
  it.each([
    'http://localhost/cb',
    'http://localhost:9080/callback?state=ab',
    'http://127.0.0.1:9090/callback',
    'http://[::1]:9080/cb',
    'http://app.localhost:5173/',
    'http://LOCALHOST:1/',
    'https://node.example.com/app#x',
    'https://trusted.example:8443/cb',
  ])('trusts %s', (raw) => {
    const r = checkCallback(raw, PAGE, ['https://trusted.example:8443']);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.origin).toBe(new URL(raw).origin);
  });

  it.each([
    ['https://evil.example/cb', 'untrusted'],
    ['http://node.example.com/cb', 'untrusted'], // another scheme is another origin
    ['https://node.example.com:444/cb', 'untrusted'],
    ['https://trusted.example/cb', 'untrusted'], // the allowed origin has a port
    ['http://127.0.0.1.evil.example/', 'untrusted'],
    ['http://localhost.evil.example/', 'untrusted'],
    ['http://127.0.0.2/', 'untrusted'],
    ['https://localhost@evil.example/', 'untrusted'],
    ['javascript:alert(1)', 'scheme'],
    ['data:text/html,<script>alert(1)</script>', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['ftp://localhost/', 'scheme'],
    ['//evil.example', 'invalid'],
    ['/relative/cb', 'invalid'],
    ['not a url', 'invalid'],
    ['', 'missing'],
    ['   ', 'missing'],
    [null, 'missing'],
  ] as const)('refuses %j (%s)', (raw, reason) => {
    const r = checkCallback(raw, PAGE, ['https://trusted.example:8443']);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toBe(reason);
  });

  it('isLoopbackHost and the meta list', () => {
    expect(['localhost', '127.0.0.1', '[::1]', 'a.b.localhost'].every(isLoopbackHost)).toBe(true);
    expect(['::1', '127.0.0.1.nip.io', 'localhost.example', '0.0.0.0'].some(isLoopbackHost)).toBe(false);
    expect(parseOriginList(' https://a.example  http://b.example:8080 ')).toEqual(['https://a.example', 'http://b.example:8080']);
    expect(parseOriginList('')).toEqual([]);
    expect(parseOriginList(undefined)).toEqual([]);
  });
});

describe('the hand-off URL (wire §9)', () => {
  const tokens = { accessToken: 'a.b.c', refreshToken: 'd.e.f', nodeUrl: 'http://127.0.0.1:2428' };
  it('access_token, refresh_token, then node_url, percent-encoded; the query kept', () => {
    expect(handOffUrl(new URL('http://127.0.0.1:9080/callback?state=ab%20cd'), tokens)).toBe(
      'http://127.0.0.1:9080/callback?state=ab%20cd#access_token=a.b.c&refresh_token=d.e.f&node_url=http%3A%2F%2F127.0.0.1%3A2428',
    );
  });

  it('context_id and context_identity when given, before node_url; a value with & or # stays one value', () => {
    expect(handOffUrl(new URL('http://localhost/cb'), { ...tokens, contextId: 'c&1', contextIdentity: 'id#2' })).toBe(
      'http://localhost/cb#access_token=a.b.c&refresh_token=d.e.f&context_id=c%261&context_identity=id%232&node_url=http%3A%2F%2F127.0.0.1%3A2428',
    );
    expect(handOffUrl(new URL('http://localhost/cb'), { ...tokens, contextId: '', contextIdentity: 'x' })).toBe(
      'http://localhost/cb#access_token=a.b.c&refresh_token=d.e.f&context_identity=x&node_url=http%3A%2F%2F127.0.0.1%3A2428',
    );
  });

  it.each(['http://localhost/cb#access_token=planted', 'http://localhost/cb#', 'http://localhost/cb#/route?x=1'])(
    'a fragment already on %s is replaced: one #, no planted value',
    (cb) => {
      const url = handOffUrl(new URL(cb), tokens);
      expect(url.split('#')).toHaveLength(2);
      expect(url.startsWith('http://localhost/cb#access_token=a.b.c&')).toBe(true);
      expect(denyUrl(new URL(cb))).toBe('http://localhost/cb#error=access_denied');
    },
  );

  it('Deny keeps the query', () => {
    expect(denyUrl(new URL('http://127.0.0.1:9080/callback?state=ff'))).toBe(
      'http://127.0.0.1:9080/callback?state=ff#error=access_denied',
    );
  });
});

describe('node_url', () => {
  it.each([
    [null, PAGE, PAGE],
    ['', PAGE, PAGE],
    ['https://node.example.com', PAGE, 'https://node.example.com'],
    ['https://node.example.com/base/', PAGE, 'https://node.example.com/base/'],
    ['https://evil.example', PAGE, PAGE],
    ['http://localhost:2428', PAGE, PAGE],
    ['http://localhost:2428', 'http://127.0.0.1:2428', 'http://localhost:2428'],
    ['javascript:alert(1)', 'http://127.0.0.1:2428', 'http://127.0.0.1:2428'],
    ['not a url', PAGE, PAGE],
  ])('app-url %j on a page at %s → %s', (appUrl, page, expected) => {
    expect(nodeUrl(appUrl, page)).toBe(expected);
  });
});

describe('query parameters and permissions', () => {
  it('reads the parameters; unknown ones (package-name, …) do not matter', () => {
    expect(
      readParams(
        '?callback-url=http%3A%2F%2F127.0.0.1%3A9080%2Fcallback%3Fstate%3Dab&app-url=http%3A%2F%2Fn&permissions=admin&mode=admin&context-id=%20c%20&context-identity=i&package-name=p&registry-url=r',
      ),
    ).toEqual({
      callbackUrl: 'http://127.0.0.1:9080/callback?state=ab',
      permissions: 'admin',
      mode: 'admin',
      contextId: 'c',
      contextIdentity: 'i',
      appUrl: 'http://n',
    });
    expect(readParams('')).toEqual({
      callbackUrl: null,
      permissions: null,
      mode: null,
      contextId: '',
      contextIdentity: '',
      appUrl: null,
    });
  });

  it('splits on commas outside brackets, trims, drops empty entries and repeats', () => {
    expect(splitPermissions('application,package,context,blob')).toEqual(['application', 'package', 'context', 'blob']);
    expect(splitPermissions(' context:execute[ctx, id, m] ,blob:get,,blob:get,')).toEqual([
      'context:execute[ctx, id, m]',
      'blob:get',
    ]);
    expect(splitPermissions('')).toEqual([]);
    expect(splitPermissions(null)).toEqual([]);
  });

  it('a mode adds what it needs first, as the Rust frontend does; without a mode, exactly what was asked', () => {
    expect(requestedPermissions(null, 'blob:get,admin')).toEqual(['blob:get', 'admin']);
    expect(requestedPermissions('admin', null)).toEqual(['admin']);
    expect(requestedPermissions('single-context', 'blob:get')).toEqual(['context:execute', 'blob:get']);
    expect(requestedPermissions('multi-context', 'context:list,blob:get')).toEqual([
      'context:list',
      'context:create',
      'context:execute',
      'blob:get',
    ]);
    expect(requestedPermissions('something-else', 'blob:get')).toEqual(['blob:get']);
  });

  it.each([
    ['admin', true, 'Full control of this node: every action, including accounts and keys'],
    ['admin:anything', true, 'Full control of this node: every action, including accounts and keys'],
    ['keys', true, 'Manage every access key and account on this node'],
    ['keys:create:x', true, 'Create access keys'],
    ['keys:list', false, 'List access keys'],
    ['application', true, 'Install, remove and list applications'],
    ['application:', true, 'Install, remove and list applications'],
    ['application:list', false, 'See which applications are installed'],
    ['blob:add:url', false, 'Upload files (blobs) from a URL'],
    ['context:delete', true, 'Delete contexts'],
    ['context:capabilities:grant[c1]', true, 'Grant capabilities to context members'],
    ['context:alias:lookup:identity', false, 'Look up identity aliases in contexts'],
  ])('%s → high risk %s: %s', (raw, high, text) => {
    expect(describePermission(raw)).toMatchObject({ raw, high, text, known: true });
  });

  it('scopes in words; unknown strings flagged', () => {
    expect(describePermission('context:execute[ctx-1,alice,set]').scope).toBe('context ctx-1, as alice, method set');
    expect(describePermission('keys:permissions:get[k1]').scope).toBe('key k1');
    expect(describePermission('application:list[app-9]').scope).toBe('app-9 only');
    expect(describePermission('blob:get').scope).toBe('');
    for (const raw of ['bogus', 'context:alias:create', 'context:alias:create:nothing', 'keys:clients:oops', 'Admin']) {
      expect(describePermission(raw), raw).toMatchObject({ known: false, high: false });
    }
  });
});

describe('the string tables (frontend/src/i18n.ts)', () => {
  it('every language has exactly the keys of en, none empty, the same {slots}', () => {
    const en = LANGUAGES.en as Record<string, string>;
    const slots = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    expect(Object.keys(LANGUAGES).sort()).toEqual(['de', 'en']);
    for (const [code, table] of Object.entries(LANGUAGES)) {
      expect(Object.keys(table).sort(), code).toEqual(Object.keys(en).sort());
      for (const [key, value] of Object.entries(table)) {
        expect(value.trim(), `${code} ${key}`).not.toBe('');
        expect(slots(value), `${code} ${key}`).toEqual(slots(en[key] as string));
      }
    }
  });

  it('every permission the page describes has its text in the table', () => {
    for (const raw of ['application', 'blob:add:url', 'keys:permissions:update', 'context:alias:create:identity']) {
      expect(describePermission(raw).known, raw).toBe(true);
    }
  });

  it.each([
    [null, ['de-DE', 'en'], 'de'],
    [null, ['fr-FR', 'de-AT'], 'de'],
    [null, ['fr-FR'], 'en'],
    ['de', ['en-US'], 'de'],
    ['EN', ['de'], 'en'],
    ['xx', ['de'], 'de'],
    ['constructor', ['__proto__'], 'en'],
  ])('pickLanguage(%j, %j) → %s', (override, preferred, expected) => {
    expect(pickLanguage(override, preferred)).toBe(expected);
  });

  it('German texts, then back to English', () => {
    setLanguage('de');
    try {
      expect(t('btn.signin')).toBe('Anmelden');
      expect(describePermission('blob:get').text).toBe('Gespeicherte Dateien (Blobs) lesen');
      expect(describePermission('context:execute[ctx-1,alice]').scope).toBe('Kontext ctx-1, als alice');
      expect(parts('consent.context', { id: 1, identity: 2 })).toEqual(['Gebunden an Kontext ', 1, ' als Identität ', 2, '.']);
    } finally {
      setLanguage('en');
    }
    expect(t('btn.signin')).toBe('Sign in');
    expect(t('retry.other', { n: 3 })).toBe('Try again in 3 seconds.');
  });
});

describe('displayMessage: the login 401 shows "Authentication failed:" once', () => {
  it.each([
    [
      'Authentication failed: Authentication failed: Invalid username or password',
      'Authentication failed: Invalid username or password',
    ],
    [
      'Authentication failed: Invalid request: Unsupported authentication method: foo',
      'Authentication failed: Invalid request: Unsupported authentication method: foo',
    ],
    ['Too many failed login attempts; please try again later', 'Too many failed login attempts; please try again later'],
  ])('%s', (wire, shown) => {
    expect(displayMessage(wire)).toBe(shown);
  });
});
