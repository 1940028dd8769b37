import { describe, expect, it } from 'vitest';
import { canonicalIp, clientAddress, parseTrustedProxies } from './client-address.js';

describe('canonicalIp', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'], // the longer zero run is the one compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
    ['0:0:0:0:0:0:0:1', '::1'],
    ['::', '::'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['fe80::1%eth0', 'fe80::1'], // the zone is local to this host; drop it
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:102:304', '1.2.3.4'],
    ['0:0:0:0:0:ffff:c0a8:0101', '192.168.1.1'],
    ['::ffff:0.0.0.0', '0.0.0.0'],
    ['::1.2.3.4', '::102:304'], // IPv4-compatible (deprecated) is not IPv4-mapped
    ['::ffff:0:1.2.3.4', '::ffff:0:102:304'], // IPv4-translated is not IPv4-mapped either
  ])('%s → %s', (input, out) => {
    expect(canonicalIp(input)).toBe(out);
  });

  it.each([
    [''],
    ['unknown'],
    ['01.2.3.4'],
    ['1.2.3'],
    ['256.1.1.1'],
    ['1.2.3.4:8080'],
    ['[::1]'],
    [' 1.2.3.4'],
    ['1.2.3.4/32'],
    ['2001:db8::g'],
    [':::1'],
  ])('%j is not an IP', (input) => {
    expect(canonicalIp(input)).toBeUndefined();
  });
});

describe('parseTrustedProxies', () => {
  it('accepts IPs and CIDRs of both families', () => {
    const t = parseTrustedProxies(['10.0.0.1', '192.168.0.0/16', '2001:db8::/32', 'FE80::1', ' 172.16.0.0/12 ']);
    expect(t.size).toBe(5);
    expect(t.has('10.0.0.1')).toBe(true);
    expect(t.has('10.0.0.2')).toBe(false);
    expect(t.has('192.168.255.1')).toBe(true);
    expect(t.has('192.169.0.1')).toBe(false);
    expect(t.has('2001:db8:ffff::1')).toBe(true);
    expect(t.has('2001:db9::1')).toBe(false);
    expect(t.has('fe80::1')).toBe(true);
    expect(t.has('172.31.255.255')).toBe(true);
    expect(t.has('172.32.0.0')).toBe(false);
  });

  it('handles /0 and full-length prefixes', () => {
    expect(parseTrustedProxies(['0.0.0.0/0']).has('8.8.8.8')).toBe(true);
    expect(parseTrustedProxies(['::/0']).has('2001:db8::1')).toBe(true);
    const t = parseTrustedProxies(['10.1.2.3/32', '2001:db8::5/128']);
    expect(t.has('10.1.2.3')).toBe(true);
    expect(t.has('10.1.2.4')).toBe(false);
    expect(t.has('2001:db8::5')).toBe(true);
    expect(t.has('2001:db8::6')).toBe(false);
  });

  it('matches a mapped IPv4 entry or an IPv4-mapped CIDR against IPv4 addresses', () => {
    expect(parseTrustedProxies(['::ffff:10.0.0.1']).has('10.0.0.1')).toBe(true);
    const t = parseTrustedProxies(['::ffff:10.0.0.0/104']);
    expect(t.has('10.200.0.1')).toBe(true);
    expect(t.has('11.0.0.1')).toBe(false);
  });

  it('an empty list trusts nobody', () => {
    const t = parseTrustedProxies([]);
    expect(t.size).toBe(0);
    expect(t.has('127.0.0.1')).toBe(false);
  });

  it.each([
    ['nope'],
    ['10.0.0.0/33'],
    ['2001:db8::/129'],
    ['10.0.0.0/'],
    ['10.0.0.0/-1'],
    ['10.0.0.0/8/8'],
    ['fe80::1%eth0'],
    [''],
  ])('rejects %j', (entry) => {
    expect(() => parseTrustedProxies(['10.0.0.1', entry])).toThrow(`invalid trusted proxy: ${JSON.stringify(entry)}`);
  });
});

describe('clientAddress', () => {
  const trusted = parseTrustedProxies(['10.0.0.0/8', '2001:db8:1::/48']);
  const none = parseTrustedProxies([]);

  it('uses the peer when there is no XFF', () => {
    expect(clientAddress('203.0.113.7', undefined, trusted)).toBe('203.0.113.7');
    expect(clientAddress('10.0.0.1', undefined, trusted)).toBe('10.0.0.1');
  });

  it('ignores XFF from an untrusted peer (no spoofing)', () => {
    expect(clientAddress('203.0.113.7', '1.1.1.1', trusted)).toBe('203.0.113.7');
    expect(clientAddress('203.0.113.7', '1.1.1.1', none)).toBe('203.0.113.7');
    expect(clientAddress('10.0.0.1', '1.1.1.1', none)).toBe('10.0.0.1');
  });

  it('takes the rightmost untrusted entry from a trusted peer', () => {
    // The client forged "6.6.6.6"; the trusted proxy appended the address it actually saw.
    expect(clientAddress('10.0.0.1', '6.6.6.6, 198.51.100.9', trusted)).toBe('198.51.100.9');
  });

  it('walks past a chain of trusted proxies', () => {
    expect(clientAddress('10.0.0.1', '6.6.6.6, 198.51.100.9, 10.1.1.1, 10.2.2.2', trusted)).toBe('198.51.100.9');
    expect(clientAddress('10.0.0.1', '198.51.100.9,10.1.1.1,2001:db8:1::7', trusted)).toBe('198.51.100.9');
  });

  it('reads several header lines joined with ", "', () => {
    const joined = ['6.6.6.6, 198.51.100.9', '10.1.1.1'].join(', ');
    expect(clientAddress('10.0.0.1', joined, trusted)).toBe('198.51.100.9');
  });

  it('skips garbage entries', () => {
    expect(clientAddress('10.0.0.1', '198.51.100.9, unknown, , 1.2.3.4:80, [::1]', trusted)).toBe('198.51.100.9');
    expect(clientAddress('10.0.0.1', '  198.51.100.9  ,\t10.1.1.1 ', trusted)).toBe('198.51.100.9');
  });

  it('falls back to the peer when every entry is trusted or invalid', () => {
    expect(clientAddress('10.0.0.1', '10.9.9.9, garbage, ', trusted)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '', trusted)).toBe('10.0.0.1');
  });

  it('canonicalises the result', () => {
    expect(clientAddress('10.0.0.1', '2001:DB8:0:0:0:0:0:1', trusted)).toBe('2001:db8::1');
    expect(clientAddress('10.0.0.1', '::ffff:198.51.100.9', trusted)).toBe('198.51.100.9');
    expect(clientAddress('2001:0DB8:0002::0001', undefined, trusted)).toBe('2001:db8:2::1');
  });

  it('treats a mapped IPv4 peer as the IPv4 address, matching a v4 CIDR', () => {
    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    expect(clientAddress('::ffff:10.0.0.1', '198.51.100.9', trusted)).toBe('198.51.100.9');
    expect(clientAddress('::ffff:203.0.113.7', '198.51.100.9', trusted)).toBe('203.0.113.7');
  });

  it('skips mapped forms of trusted proxies inside XFF', () => {
    expect(clientAddress('10.0.0.1', '198.51.100.9, ::ffff:10.3.3.3', trusted)).toBe('198.51.100.9');
  });

  it('returns undefined for an unknown or non-IP peer', () => {
    expect(clientAddress(undefined, '198.51.100.9', trusted)).toBeUndefined();
    expect(clientAddress('not-an-ip', '198.51.100.9', trusted)).toBeUndefined();
  });
});
