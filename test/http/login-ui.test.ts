/**
 * The login UI routes with the real bundle of this run (wire §3.1): `/auth/login` is the
 * bundle's index.html plus one inserted meta tag, `/auth/assets/*` and `/auth/favicon.ico` come
 * from an in-memory manifest, and no path trick reaches another file. test/global-setup.ts builds
 * the bundle and points MERO_AUTH_FRONTEND_DIR at it; fixture bundles cover the rest.
 */
import { connect } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAuth } from '../../src/embed.js';
import { UI_NOT_BUILT_PAGE } from '../../src/http/pages/login.js';
import { silentLogger } from '../../src/util/logger.js';
import { bundleFrom, contentTypeFor, defaultBundleDir, rawAssetName, StaticBundle } from '../../src/http/static-bundle.js';
import { closeServer, listen, type Listening } from '../../src/server.js';
import type { AuthConfigInput } from '../../src/config/load.js';
import { expectPermissiveCors, expectSecurityHeaders, PAGE_CSP } from '../helpers/http.js';
import { testServices, type TestService } from '../helpers/service.js';

const bundleDir = inject('meroAuthFrontend');
const indexHtml = readFileSync(join(bundleDir, 'index.html'), 'utf8');
const assetNames = readdirSync(join(bundleDir, 'assets')).sort();
const script = assetNames.find((n) => n.endsWith('.js')) ?? '';
const IMMUTABLE = 'public, max-age=31536000, immutable';

const service = testServices({ admin: false });
let t: TestService;
beforeAll(async () => {
  t = await service();
});

/** The same app with the bundle read from `dir` (the route module reads it once per directory). */
async function serviceWithBundleDir(dir: string, overrides: AuthConfigInput = {}): Promise<TestService> {
  const before = process.env.MERO_AUTH_FRONTEND_DIR;
  process.env.MERO_AUTH_FRONTEND_DIR = dir;
  try {
    return await service(overrides);
  } finally {
    process.env.MERO_AUTH_FRONTEND_DIR = before;
  }
}

const withMeta = (content: string) =>
  indexHtml.replace('<head>', `<head><meta name="mero-auth-callback-origins" content="${content}">`);

describe('The bundle of this run', () => {
  it('is what the in-process app serves (MERO_AUTH_FRONTEND_DIR from the global setup)', () => {
    expect(defaultBundleDir()).toBe(bundleDir);
    expect(bundleFrom().built).toBe(true);
    expect(bundleFrom().assetNames()).toEqual(assetNames);
    expect(script).toMatch(/^[\w-]+-[\w-]{8}\.js$/);
  });

  it('keeps JS + CSS within 30 KB gzipped', () => {
    const total = assetNames
      .filter((n) => n.endsWith('.js') || n.endsWith('.css'))
      .reduce((sum, n) => sum + gzipSync(readFileSync(join(bundleDir, 'assets', n)), { level: 9 }).length, 0);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(30 * 1024);
  });

  it('has no inline script, inline style or event-handler attribute (the page CSP allows none)', () => {
    const scripts = [...indexHtml.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toMatch(/\ssrc="\/auth\/assets\/[\w.-]+\.js"/);
    expect(indexHtml).not.toMatch(/<style\b|\sstyle=|\son\w+=/i);
    const refs = [...indexHtml.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    for (const ref of refs) expect(ref).toMatch(/^\/auth\/(assets\/[\w.-]+|favicon\.ico)$/);
  });
});

describe('GET /auth/login', () => {
  it('is index.html with the callback-origins meta right after <head> (content="" by default)', async () => {
    const res = await t.request('/auth/login?callback-url=http%3A%2F%2F127.0.0.1%3A9080%2Fcallback&permissions=admin');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expectSecurityHeaders(res, PAGE_CSP);
    expectPermissiveCors(res);
    expect(await res.text()).toBe(withMeta(''));
  });

  it('lists frontend.allowed_callback_origins in the meta, space-separated', async () => {
    const s = await service({ frontend: { allowed_callback_origins: ['https://app.example.com', 'http://10.0.0.5:8080'] } });
    expect(await (await s.request('/auth/login')).text()).toBe(withMeta('https://app.example.com http://10.0.0.5:8080'));
  });

  it('HEAD: the same status and headers, no body', async () => {
    const get = await t.request('/auth/login');
    const head = await t.request('/auth/login', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect([...head.headers]).toEqual([...get.headers]);
    expect(await head.text()).toBe('');
  });

  it('createAuth serves the same page and files (embedded mode)', async () => {
    const auth = await createAuth(
      {
        storage: { type: 'memory' },
        user_password: { argon2: { memory_kib: 7168, iterations: 5 } },
        frontend: { allowed_callback_origins: ['https://app.example.com'] },
      },
      { env: {}, logger: silentLogger },
    );
    try {
      const page = await auth.fetch(new Request('http://localhost/auth/login?callback-url=x'));
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toBe(PAGE_CSP);
      expect(await page.text()).toBe(withMeta('https://app.example.com'));
      const js = await auth.fetch(new Request(`http://localhost/auth/assets/${script}`));
      expect(js.status).toBe(200);
      expect(js.headers.get('cache-control')).toBe(IMMUTABLE);
      expect((await auth.fetch(new Request('http://localhost/auth/favicon.ico'))).status).toBe(200);
    } finally {
      await auth.close();
    }
  });

  it('no provider enabled → the Rust "No authentication provider" page, not the bundle', async () => {
    const s = await service({ providers: { user_password: false } });
    expect(await (await s.request('/auth/login')).text()).toBe(
      '<html><body><h1>No authentication provider is available</h1></body></html>',
    );
  });
});

describe('GET /auth/assets/* and /auth/favicon.ico', () => {
  it.each([
    ['script', '.js'],
    ['stylesheet', '.css'],
  ])('the %s: its bytes, its content type, cached as immutable, the page CSP', async (_kind, ext) => {
    const names = assetNames.filter((n) => n.endsWith(ext));
    expect(names).toHaveLength(1);
    const name = names[0] as string;
    const res = await t.request(`/auth/assets/${name}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(contentTypeFor(name));
    expect(res.headers.get('content-type')).toMatch(/^text\/(javascript|css); charset=utf-8$/);
    expect(res.headers.get('cache-control')).toBe(IMMUTABLE);
    expectSecurityHeaders(res, PAGE_CSP);
    expectPermissiveCors(res);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(readFileSync(join(bundleDir, 'assets', name)))).toBe(true);
    expect(res.headers.get('content-length')).toBe(String(body.length));

    const head = await t.request(`/auth/assets/${name}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect([...head.headers]).toEqual([...res.headers]);
    expect(await head.text()).toBe('');
  });

  it('favicon.ico: image/x-icon, cached for a day, the page CSP', async () => {
    const res = await t.request('/auth/favicon.ico');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/x-icon');
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400');
    expectSecurityHeaders(res, PAGE_CSP);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(readFileSync(join(bundleDir, 'favicon.ico')))).toBe(true);
    expect(body.subarray(0, 4).equals(Buffer.from([0, 0, 1, 0]))).toBe(true); // an ICO header
  });

  const tricks = () => [
    `/auth/assets/${script}/`,
    `/auth/assets/${script.toUpperCase()}`,
    `/auth/assets/${script}.map`,
    `/auth/assets/%${script.charCodeAt(0).toString(16)}${script.slice(1)}`, // an encoded letter of a real name
    `/auth/assets//${script}`,
    `/auth/assets/x/..%2f${script}`,
    `/auth/assets/%2e%2e/index.html`,
    `/auth/assets/%2E%2E/%2E%2E/package.json`,
    `/auth/assets/..%2f..%2fpackage.json`,
    `/auth/assets/..%5c..%5cpackage.json`,
    `/auth/assets/%5c${script}`,
    `/auth/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fsrc%2fcli.ts`,
    `/auth/assets/${script}%00`,
    `/auth/assets/%00`,
    '/auth/assets/index.html',
    '/auth/assets/favicon.ico',
    '/auth/assets/missing.css',
    '/auth/assets/deep/nested/file.svg',
  ];
  it('path tricks and near misses → 404 (the asset route\'s "File not found", no-store, page CSP)', async () => {
    for (const path of tricks()) {
      const res = await t.request(path);
      expect(res.status, path).toBe(404);
      const body = await res.text();
      // The URL parser turns `%2e%2e/` into a dot segment before routing: that request leaves
      // /auth/assets/ altogether and gets the empty 404 of an unknown path.
      if (new URL(path, 'http://x').pathname.startsWith('/auth/assets/')) {
        expect(body, path).toBe('File not found');
        expect(res.headers.get('content-type'), path).toBe('text/plain; charset=utf-8');
        expect(res.headers.get('cache-control'), path).toBe('no-store');
        expectSecurityHeaders(res, PAGE_CSP);
      } else {
        expect(body, path).toBe('');
      }
    }
  });

  describe('on a real socket (request targets exactly as sent, nothing normalised by a client)', () => {
    let server: Listening;
    beforeAll(async () => {
      server = await listen(t.app, '127.0.0.1:0');
    });
    afterAll(async () => {
      await closeServer(server.server, 1000);
    });

    /** One raw HTTP/1.1 request; resolves with the status and body. */
    function raw(target: string): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const socket = connect(server.address.port, '127.0.0.1');
        let data = '';
        socket.setEncoding('latin1');
        socket.on('data', (d: string) => (data += d));
        socket.on('error', reject);
        socket.on('close', () => {
          const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
          resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
        });
        socket.end(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 'latin1');
      });
    }

    it.each([
      '/auth/assets/../../package.json',
      '/auth/assets/../../../../../../etc/passwd',
      '/auth/assets/..\\..\\package.json',
      '/auth/assets/%2e%2e/%2e%2e/package.json',
      '/auth/assets/..%2f..%2fpackage.json',
      '/auth/assets/..%5c..%5cpackage.json',
      '/auth/assets/%2e%2e%5c%2e%2e%5cpackage.json',
      '/auth/assets//etc/passwd',
      '/auth/assets/%00',
    ])('GET %s never serves a file from outside the bundle', async (target) => {
      const res = await raw(target);
      expect(res.status, target).toBeGreaterThanOrEqual(400);
      expect(res.body).not.toContain('"name": "mero-auth"');
      expect(res.body).not.toContain('root:');
    });

    it('while a real asset is served', async () => {
      const res = await raw(`/auth/assets/${script}`);
      expect(res.status).toBe(200);
      expect(res.body).toBe(readFileSync(join(bundleDir, 'assets', script), 'latin1'));
    });
  });
});

describe('Bundles other than the built one', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'mero-auth-bundle-'));
    dirs.push(d);
    return d;
  };

  it('no bundle: the "not built" page; every file and the favicon 404', async () => {
    const s = await serviceWithBundleDir(join(tempDir(), 'nothing-here'));
    const page = await s.request('/auth/login');
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).toBe(UI_NOT_BUILT_PAGE);
    for (const path of [`/auth/assets/${script}`, '/auth/favicon.ico']) {
      const res = await s.request(path);
      expect(res.status).toBe(404);
      expect(await res.text()).toBe('File not found');
    }
  });

  it('a fixture bundle: content types by extension; unsafe names, symlinks and other files are not served', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'assets', 'fonts'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><html><head><title>x</title></head><body></body></html>');
    writeFileSync(join(dir, 'secret.txt'), 'not an asset');
    const files: Record<string, string> = {
      'a.js': 'text/javascript; charset=utf-8',
      'a.css': 'text/css; charset=utf-8',
      'a.svg': 'image/svg+xml',
      'a.png': 'image/png',
      'a.ICO': 'image/x-icon',
      'fonts/a.woff2': 'font/woff2',
      'a.json': 'application/json',
      'a.wasm': 'application/octet-stream',
      'no-extension': 'application/octet-stream',
    };
    for (const name of Object.keys(files)) writeFileSync(join(dir, 'assets', name), `content of ${name}`);
    writeFileSync(join(dir, 'assets', '.hidden.js'), 'hidden');
    writeFileSync(join(dir, 'assets', 'a%2e.js'), 'percent in the name');
    writeFileSync(join(dir, 'assets', 'a b.js'), 'space in the name');
    symlinkSync(join(dir, 'secret.txt'), join(dir, 'assets', 'link.js'));

    const s = await serviceWithBundleDir(dir);
    expect(await (await s.request('/auth/login')).text()).toBe(
      '<!doctype html><html><head><meta name="mero-auth-callback-origins" content=""><title>x</title></head><body></body></html>',
    );
    for (const [name, type] of Object.entries(files)) {
      const res = await s.request(`/auth/assets/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get('content-type'), name).toBe(type);
      expect(await res.text()).toBe(`content of ${name}`);
    }
    for (const name of [
      '.hidden.js',
      'a%2e.js',
      'a%252e.js',
      'a%20b.js',
      'link.js',
      '../secret.txt',
      '..%2fsecret.txt',
      'fonts',
    ]) {
      expect((await s.request(`/auth/assets/${name}`)).status, name).toBe(404);
    }
    // This bundle has no favicon.
    expect((await s.request('/auth/favicon.ico')).status).toBe(404);
  });
});

describe('StaticBundle and rawAssetName', () => {
  it('an index.html without <head> counts as no bundle (the meta could not be inserted)', () => {
    expect(StaticBundle.fromFiles([['index.html', '<html><body>no head</body></html>']]).built).toBe(false);
  });

  it('inserts the meta once, after the first <head>, and escapes the attribute value', () => {
    const b = StaticBundle.fromFiles([['index.html', '<html><head></head><body><!-- <head> --></body></html>']]);
    expect(b.loginPage(['https://a.example', 'x"<&>'])).toBe(
      '<html><head><meta name="mero-auth-callback-origins" content="https://a.example x&quot;&lt;&amp;&gt;"></head><body><!-- <head> --></body></html>',
    );
  });

  it('keeps only names under assets/ made of safe segments, at most four deep', () => {
    const b = StaticBundle.fromFiles(
      [
        'assets/a.js',
        'assets/x/y/z/w.js',
        'assets/x/y/z/w/v.js',
        'assets/../a.js',
        'assets/./a.js',
        'assets//a.js',
        'assets/a\\b.js',
        'assets/a\0.js',
        'other/a.js',
      ].map((n) => [n, 'x'] as const),
    );
    expect(b.assetNames()).toEqual(['a.js', 'x/y/z/w.js']);
  });

  it.each([
    ['http://localhost/auth/assets/a.js', 'a.js'],
    ['http://localhost/auth/assets/a.js?v=1#x', 'a.js'],
    ['http://localhost:3001/auth/assets/%2e%2e%2fx', '%2e%2e%2fx'],
    ['http://localhost/auth/assets/', ''],
    ['http://localhost/%61uth/assets/a.js', undefined],
    ['http://localhost/auth/login', undefined],
  ])('rawAssetName(%s) = %s', (url, name) => {
    expect(rawAssetName(url)).toBe(name);
  });
});
