import { describe, expect, it } from 'vitest';
import { buildCsp } from './csp.js';
import {
  isHeaderValue,
  isHttpOrigin,
  isIpOrCidr,
  isOrigin,
  isToken,
  listenAddrsConflict,
  meetsArgon2Floor,
  normalizeOrigin,
  parseListenAddr,
} from './validators.js';

describe('parseListenAddr', () => {
  it('parses IPv4 and bracketed IPv6, returning the host without brackets', () => {
    expect(parseListenAddr('127.0.0.1:3001')).toEqual({ host: '127.0.0.1', port: 3001 });
    expect(parseListenAddr('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListenAddr('[::]:3001')).toEqual({ host: '::', port: 3001 });
    expect(parseListenAddr('[::1]:65535')).toEqual({ host: '::1', port: 65535 });
  });

  it.each([
    'localhost:3001',
    '127.0.0.1',
    ':3001',
    '::1:3001',
    '[127.0.0.1]:3001',
    '[::1]',
    '127.0.0.1:65536',
    '256.0.0.1:80',
    '127.0.0.1:30a',
    ' 127.0.0.1:3001',
  ])('rejects %j with a message naming the value', (s) => {
    expect(() => parseListenAddr(s)).toThrow(`not an ip:port address: ${JSON.stringify(s)}`);
  });
});

describe('listenAddrsConflict', () => {
  it('is true for the same socket, also spelled differently, and for a wildcard on the same port', () => {
    expect(listenAddrsConflict('127.0.0.1:3001', '127.0.0.1:3001')).toBe(true);
    expect(listenAddrsConflict('[::]:3001', '[0:0::0]:3001')).toBe(true);
    expect(listenAddrsConflict('0.0.0.0:3001', '127.0.0.1:3001')).toBe(true);
    expect(listenAddrsConflict('127.0.0.1:3001', '[::]:3001')).toBe(true);
  });

  it('is false for other ports, other specific hosts, and port 0', () => {
    expect(listenAddrsConflict('127.0.0.1:3001', '127.0.0.1:9090')).toBe(false);
    expect(listenAddrsConflict('127.0.0.1:3001', '10.0.0.1:3001')).toBe(false);
    expect(listenAddrsConflict('127.0.0.1:0', '127.0.0.1:0')).toBe(false);
  });
});

describe('origins', () => {
  it('accepts scheme://host[:port] and normalises to what a browser sends', () => {
    expect(normalizeOrigin('https://app.example.com')).toBe('https://app.example.com');
    expect(normalizeOrigin('HTTPS://App.Example.COM:443')).toBe('https://app.example.com');
    expect(normalizeOrigin('http://localhost:80')).toBe('http://localhost');
    expect(normalizeOrigin('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(normalizeOrigin('http://[0:0::1]:5173')).toBe('http://[::1]:5173');
    expect(normalizeOrigin('tauri://localhost')).toBe('tauri://localhost');
  });

  it.each([
    'example.com',
    'https://example.com/',
    'https://example.com/path',
    'https://example.com?x=1',
    'https://user@example.com',
    'https://*.example.com',
    'https://example.com:0',
    'https://example.com:99999',
    'http://[not-ipv6]',
    '',
    'null',
  ])('rejects %j', (s) => {
    expect(isOrigin(s)).toBe(false);
  });

  it('http(s)-only check rejects other schemes', () => {
    expect(isHttpOrigin('https://a.example')).toBe(true);
    expect(isHttpOrigin('http://a.example:8080')).toBe(true);
    expect(isHttpOrigin('tauri://localhost')).toBe(false);
    expect(isHttpOrigin('ftp://a.example')).toBe(false);
  });
});

describe('tokens and header values', () => {
  it('method and header-name tokens', () => {
    for (const ok of ['GET', 'PATCH', 'X-CSRF-Token', 'content-type', "x!#$%&'*+.^_`|~1"]) {
      expect(isToken(ok)).toBe(true);
    }
    for (const bad of ['', 'GE T', 'X:Y', 'a/b', 'é', 'a\tb', '(x)']) expect(isToken(bad)).toBe(false);
  });

  it('header values are visible ASCII plus space and tab', () => {
    expect(isHeaderValue('max-age=31536000; includeSubDomains')).toBe(true);
    expect(isHeaderValue("'self' http://*.nip.io:*\t")).toBe(true);
    expect(isHeaderValue('')).toBe(true);
    expect(isHeaderValue('a\nb')).toBe(false);
    expect(isHeaderValue('a\rb')).toBe(false);
    expect(isHeaderValue('caf\u00e9')).toBe(false);
    expect(isHeaderValue('\u0000')).toBe(false);
  });
});

describe('isIpOrCidr', () => {
  it.each(['10.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '::1', 'fd00::/8', '::/0', '::ffff:1.2.3.4', '2001:db8::/128'])(
    'accepts %j',
    (s) => expect(isIpOrCidr(s)).toBe(true),
  );
  it.each(['10.0.0.0/33', 'fd00::/129', '10.0.0.0/', '10.0.0.0/08', '10.0.0', 'example.com', 'fe80::1%eth0', '1.2.3.4/8/8', ''])(
    'rejects %j',
    (s) => expect(isIpOrCidr(s)).toBe(false),
  );
});

describe('argon2 floor', () => {
  it('needs one OWASP pair met in both values', () => {
    expect(meetsArgon2Floor(19456, 2)).toBe(true);
    expect(meetsArgon2Floor(7168, 5)).toBe(true);
    expect(meetsArgon2Floor(47104, 1)).toBe(true);
    expect(meetsArgon2Floor(12288, 4)).toBe(true);
    expect(meetsArgon2Floor(19455, 2)).toBe(false);
    expect(meetsArgon2Floor(7167, 100)).toBe(false);
    expect(meetsArgon2Floor(40000, 1)).toBe(false);
  });
});

describe('buildCsp', () => {
  it('joins each list with spaces and ends with a semicolon (§2.5)', () => {
    expect(
      buildCsp({
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
      }),
    ).toBe(
      "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; connect-src 'self' http://localhost:* http://host.docker.internal:* http://*.nip.io:* https://*.nip.io:* https: http:;",
    );
  });
});
