import { describe, expect, it } from 'vitest';
import { extractHost, isValidForNode } from './node.js';

describe('extractHost (permissions.md §7.2)', () => {
  it.each([
    ['https://node1.example.com', 'node1.example.com'],
    ['https://Node1.EXAMPLE.com:8443/path?q=1', 'node1.example.com'],
    ['http://localhost:2428', 'localhost'],
    ['http://127.0.0.1:2428/', '127.0.0.1'],
    ['http://[::1]:2428', '[::1]'],
    ['http://[2001:DB8::1]/', '[2001:db8::1]'],
  ])('an absolute URL with a host: %j → %j', (s, host) => {
    expect(extractHost(s)).toBe(host);
  });

  it.each([
    // Not a URL with a host: the "scheme" is node.example.com.
    ['node.example.com:8443', 'node.example.com'],
    ['localhost:2428', 'localhost'],
    ['Node.Example.COM', 'node.example.com'],
    ['node.example.com/some/path', 'node.example.com'],
    ['node.example.com:8443/x:y', 'node.example.com'],
    ['  node.example.com  ', 'node.example.com'],
    ['meroctl-cli', 'meroctl-cli'],
    ['mero-js-sdk', 'mero-js-sdk'],
  ])('the fallback: %j → %j', (s, host) => {
    expect(extractHost(s)).toBe(host);
  });

  it.each(['', '   ', '\t', '/path', ':8443', '/:x', ' :2428'])('undeterminable: %j → none', (s) => {
    expect(extractHost(s)).toBeUndefined();
  });

  it('lower-cases ASCII only', () => {
    expect(extractHost('ÄBC.Example')).toBe('Äbc.example');
  });
});

describe('isValidForNode (permissions.md §7.2)', () => {
  it('a key without node_url is valid for any node, and for none', () => {
    expect(isValidForNode(undefined, undefined)).toBe(true);
    expect(isValidForNode(undefined, 'https://anything.example')).toBe(true);
    expect(isValidForNode(undefined, '')).toBe(true);
  });

  it('a node-bound key needs a request node', () => {
    expect(isValidForNode('https://node1.example.com', undefined)).toBe(false);
  });

  it('compares the extracted hosts exactly; ports are ignored', () => {
    expect(isValidForNode('https://node1.example.com', 'https://node1.example.com')).toBe(true);
    expect(isValidForNode('https://node1.example.com', 'http://NODE1.example.com:2428/path')).toBe(true);
    expect(isValidForNode('https://node.example.com', 'node.example.com:8443')).toBe(true);
    expect(isValidForNode('node.example.com:8443', 'https://node.example.com:9999')).toBe(true);
    expect(isValidForNode('http://localhost:2428', 'localhost:3000')).toBe(true);
  });

  it('a different host, or a suffix attack, is not valid', () => {
    expect(isValidForNode('https://node1.example.com', 'https://node2.example.com')).toBe(false);
    expect(isValidForNode('https://node1.example.com', 'https://node1.example.com.attacker.com')).toBe(false);
    expect(isValidForNode('https://node1.example.com', 'example.com')).toBe(false);
  });

  it('a client name such as mero-js-sdk is compared as a host and fails against a URL', () => {
    expect(isValidForNode('https://node1.example.com', 'mero-js-sdk')).toBe(false);
    expect(isValidForNode('mero-js-sdk', 'mero-js-sdk')).toBe(true);
  });

  it('an undeterminable host on either side is not valid', () => {
    expect(isValidForNode('https://node1.example.com', '')).toBe(false);
    expect(isValidForNode('https://node1.example.com', '   ')).toBe(false);
    expect(isValidForNode('', '')).toBe(false);
    expect(isValidForNode(':8443', ':8443')).toBe(false);
  });
});
