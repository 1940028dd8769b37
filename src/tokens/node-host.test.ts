import { describe, expect, it } from 'vitest';
import { checkNodeHost, NO_HOST_MESSAGE, urlHost, type HostSource } from './node-host.js';

const NODE1 = 'https://node1.example.com';
const mismatch = (tokenHost: string, requestHost: string): string =>
  `Token is not valid for this host. Token is for '${tokenHost}' but request is to '${requestHost}'`;

describe('checkNodeHost — messages', () => {
  it('the no-host message is exact', () => {
    expect(NO_HOST_MESSAGE).toBe(
      'Token is node-bound but the request carries no Host or X-Forwarded-Host header to validate against',
    );
  });

  it('the mismatch message names the token host and the request host as received', () => {
    expect(checkNodeHost('https://Node1.Example.com', { host: 'NODE2.example.com:8443' })).toBe(
      "Token is not valid for this host. Token is for 'node1.example.com' but request is to 'NODE2.example.com:8443'",
    );
  });
});

describe('checkNodeHost — a token without node_url', () => {
  it('passes with no headers at all', () => {
    expect(checkNodeHost(undefined, {})).toBeUndefined();
  });

  it('passes whatever the headers say', () => {
    expect(checkNodeHost(undefined, { host: 'evil.example', forwardedHost: 'x\u00e9' })).toBeUndefined();
  });
});

describe('checkNodeHost — step 2, fail closed', () => {
  const noHost: Array<[string, HostSource]> = [
    ['no headers', {}],
    ['null headers', { host: null, forwardedHost: null }],
    ['an empty Host', { host: '' }],
    ['a whitespace-only Host', { host: '   ' }],
    ['a tab-only Host', { host: '\t' }],
    ['an empty X-Forwarded-Host (no fallback to Host)', { forwardedHost: '', host: 'node1.example.com' }],
    ['a whitespace-only X-Forwarded-Host (no fallback to Host)', { forwardedHost: '  ', host: 'node1.example.com' }],
    ['an empty node_host falls back to headers, and they are absent', { nodeHost: '' }],
  ];
  it.each(noHost)('%s → no-host message', (_label, src) => {
    expect(checkNodeHost(NODE1, src)).toBe(NO_HOST_MESSAGE);
  });

  it('a non-visible-ASCII X-Forwarded-Host means no host, with no fallback to a matching Host', () => {
    for (const xfh of [
      'node1.example.com\u00e9',
      'n\u00f6de1.example.com',
      'node1.example.com\u0000',
      'node1\u007f.example.com',
      '\u00e9',
    ]) {
      expect(checkNodeHost(NODE1, { forwardedHost: xfh, host: 'node1.example.com' })).toBe(NO_HOST_MESSAGE);
    }
  });

  it('fails closed even when the token host cannot be determined', () => {
    expect(checkNodeHost('meroctl-cli', {})).toBe(NO_HOST_MESSAGE);
    expect(checkNodeHost('localhost:2428', { host: ' ' })).toBe(NO_HOST_MESSAGE);
  });
});

describe('checkNodeHost — step 3, the internal `auth` bypass', () => {
  const accepted = ['auth', 'auth:1', 'auth:80', 'auth:443', 'auth:2428', 'auth:3001', 'auth:8080', 'auth:65535'];
  const rejected = [
    'auth:',
    'auth:abc',
    'auth:80abc',
    'auth:abc80',
    'auth:80.0',
    'auth:80:80',
    'auth:-3001',
    'auth:+3001',
    'auth: 3001',
    'AUTH',
    'Auth',
    'AUTH:3001',
    ' auth',
    'auth ',
    ' auth:3001',
    'authentication',
    'auth-service',
    'auth_service',
    'authservice:3001',
    'auth:malicious.com',
    'auth:evil.example.com',
    'localhost',
    'localhost:3001',
    'example.com',
  ];

  it.each(accepted)('Host %j passes for any node-bound token', (host) => {
    expect(checkNodeHost(NODE1, { host })).toBeUndefined();
    expect(checkNodeHost('http://evil.example:2428', { host })).toBeUndefined();
  });

  it.each(accepted)('X-Forwarded-Host %j passes too', (forwardedHost) => {
    expect(checkNodeHost(NODE1, { forwardedHost })).toBeUndefined();
  });

  it.each(rejected)('Host %j takes no bypass and fails the normal comparison', (host) => {
    expect(checkNodeHost(NODE1, { host })).toBe(mismatch('node1.example.com', host));
  });

  it.each(rejected)('X-Forwarded-Host %j takes no bypass either', (forwardedHost) => {
    expect(checkNodeHost(NODE1, { forwardedHost })).toBe(mismatch('node1.example.com', forwardedHost));
  });

  it('a rejected bypass host still passes the normal comparison when it really is the token host', () => {
    expect(checkNodeHost('http://localhost:3001', { host: 'localhost:3001' })).toBeUndefined();
    expect(checkNodeHost('http://auth', { host: 'AUTH' })).toBeUndefined();
    expect(checkNodeHost('http://auth:1', { host: 'auth:abc' })).toBeUndefined();
  });
});

describe('checkNodeHost — step 4, undeterminable token host passes', () => {
  it.each(['meroctl-cli', 'mero-js-sdk', 'auth-seam-e2e', 'localhost:2428', 'not a url', ''])(
    'node_url %j passes with any present host',
    (nodeUrl) => {
      expect(checkNodeHost(nodeUrl, { host: 'anything.example' })).toBeUndefined();
    },
  );

  it('urlHost: absolute URLs give their lower-cased host, others nothing', () => {
    expect(urlHost('https://Node1.EXAMPLE.com:8443/path')).toBe('node1.example.com');
    expect(urlHost('http://[::1]:2428')).toBe('[::1]');
    expect(urlHost('localhost:2428')).toBeUndefined();
    expect(urlHost('mero-js-sdk')).toBeUndefined();
    expect(urlHost('file:///etc/passwd')).toBeUndefined();
  });
});

describe('checkNodeHost — step 5, comparison', () => {
  it('ports are ignored on the request side', () => {
    expect(checkNodeHost(NODE1, { host: 'node1.example.com:8443' })).toBeUndefined();
    expect(checkNodeHost('https://node1.example.com:9000', { host: 'node1.example.com' })).toBeUndefined();
  });

  it('case-insensitive on both sides', () => {
    expect(checkNodeHost('https://NODE1.example.COM', { host: 'Node1.Example.Com:443' })).toBeUndefined();
  });

  it('a suffix attack fails', () => {
    expect(checkNodeHost(NODE1, { host: 'node1.example.com.attacker.com' })).toBe(
      mismatch('node1.example.com', 'node1.example.com.attacker.com'),
    );
    expect(checkNodeHost(NODE1, { host: 'evilnode1.example.com' })).toBe(mismatch('node1.example.com', 'evilnode1.example.com'));
    expect(checkNodeHost(NODE1, { host: 'example.com' })).toBe(mismatch('node1.example.com', 'example.com'));
  });

  it('IPv6 literals with a port never match (known limitation: the first `:` is inside the brackets)', () => {
    expect(checkNodeHost('http://[::1]:2428', { host: '[::1]:2428' })).toBe(mismatch('[::1]', '[::1]:2428'));
    expect(checkNodeHost('http://[2001:db8::1]', { host: '[2001:db8::1]:443' })).toBe(
      mismatch('[2001:db8::1]', '[2001:db8::1]:443'),
    );
    // Without a port the literal rule (exact equality, brackets included) still applies.
    expect(checkNodeHost('http://[::1]:2428', { host: '[::1]' })).toBeUndefined();
  });

  it('several X-Forwarded-Host lines joined with ", " never match', () => {
    for (const joined of [
      'node1.example.com, node1.example.com',
      'node1.example.com, node2.example.com',
      'node2.example.com, node1.example.com',
    ]) {
      expect(checkNodeHost(NODE1, { forwardedHost: joined, host: 'node1.example.com' })).toBe(
        mismatch('node1.example.com', joined),
      );
    }
  });

  it('a host with surrounding whitespace is compared as received and fails', () => {
    expect(checkNodeHost(NODE1, { host: ' node1.example.com' })).toBe(mismatch('node1.example.com', ' node1.example.com'));
    expect(checkNodeHost(NODE1, { forwardedHost: 'node1.example.com\t' })).toBe(
      mismatch('node1.example.com', 'node1.example.com\t'),
    );
  });
});

describe('checkNodeHost — the examples of wire §4.6', () => {
  it('without node_host, a token for https://node1.example.com', () => {
    expect(checkNodeHost(NODE1, { host: 'node1.example.com' })).toBeUndefined();
    expect(checkNodeHost(NODE1, { host: 'node2.example.com' })).toBe(mismatch('node1.example.com', 'node2.example.com'));
    expect(checkNodeHost(NODE1, {})).toBe(NO_HOST_MESSAGE);
    expect(checkNodeHost(NODE1, { forwardedHost: 'node1.example.com' })).toBeUndefined();
    expect(checkNodeHost(NODE1, { host: 'auth:3001' })).toBeUndefined();
  });

  it('X-Forwarded-Host wins over Host', () => {
    expect(checkNodeHost(NODE1, { forwardedHost: 'node2.example.com', host: 'node1.example.com' })).toBe(
      mismatch('node1.example.com', 'node2.example.com'),
    );
    expect(checkNodeHost(NODE1, { forwardedHost: 'node1.example.com', host: 'node2.example.com' })).toBeUndefined();
  });

  it('a token without node_url passes with no headers at all', () => {
    expect(checkNodeHost(undefined, {})).toBeUndefined();
  });

  it('with node_host = node-b.example, the headers are ignored entirely', () => {
    const nodeHost = 'node-b.example';
    expect(checkNodeHost('http://node-b.example:2428', { nodeHost, forwardedHost: 'node-a.example' })).toBeUndefined();
    expect(
      checkNodeHost('http://node-a.example:2428', { nodeHost, forwardedHost: 'node-a.example', host: 'node-a.example' }),
    ).toBe(mismatch('node-a.example', 'node-b.example'));
    expect(checkNodeHost('http://node-b.example:2428', { nodeHost })).toBeUndefined();
    // A non-visible-ASCII header does not matter either.
    expect(checkNodeHost('http://node-b.example:2428', { nodeHost, forwardedHost: '\u00e9' })).toBeUndefined();
    // Nor does the internal bypass.
    expect(checkNodeHost('http://node-a.example', { nodeHost, host: 'auth:3001', forwardedHost: 'auth' })).toBe(
      mismatch('node-a.example', 'node-b.example'),
    );
  });

  it('with node_host = localhost:2428', () => {
    const nodeHost = 'localhost:2428';
    expect(checkNodeHost('http://localhost:2428', { nodeHost })).toBeUndefined();
    expect(checkNodeHost('http://evil.example:2428', { nodeHost })).toBe(mismatch('evil.example', 'localhost:2428'));
  });

  it('without node_host, a node-a token', () => {
    const token = 'http://node-a.example:2428';
    expect(checkNodeHost(token, { forwardedHost: 'node-a.example' })).toBeUndefined();
    expect(checkNodeHost(token, { forwardedHost: 'node-b.evil' })).toBe(mismatch('node-a.example', 'node-b.evil'));
    expect(checkNodeHost(token, { forwardedHost: 'auth:evil.com' })).toBe(mismatch('node-a.example', 'auth:evil.com'));
    expect(checkNodeHost(token, { forwardedHost: 'auth:2428' })).toBeUndefined();
  });
});
