/**
 * The client address for the address limiter (wire §8.1): the socket peer, unless the peer is a
 * trusted proxy, in which case the rightmost untrusted entry of X-Forwarded-For.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export interface TrustedProxies {
  /** Whether a canonical address (see canonicalIp) belongs to a trusted proxy. */
  has(ip: string): boolean;
  /** Number of configured entries; 0 means XFF is never believed. */
  readonly size: number;
}

/**
 * Parses `server.trusted_proxies`: IPs and CIDRs, v4 and v6. Throws on an invalid entry so a
 * typo cannot silently widen or narrow trust.
 */
export function parseTrustedProxies(list: readonly string[]): TrustedProxies {
  const blocks = new BlockList();
  for (const raw of list) {
    const entry = raw.trim();
    const slash = entry.indexOf('/');
    const addr = slash === -1 ? entry : entry.slice(0, slash);
    const ip = canonicalIp(addr);
    if (ip === undefined || addr.includes('%')) {
      throw new Error(`invalid trusted proxy: ${JSON.stringify(raw)}`);
    }
    if (slash === -1) {
      blocks.addAddress(ip, isIPv4(ip) ? 'ipv4' : 'ipv6');
      continue;
    }
    const prefixText = entry.slice(slash + 1);
    // The prefix counts bits of the address as written: `::ffff:10.0.0.0/104` is an IPv6 prefix.
    const family = isIPv4(addr) ? 'ipv4' : 'ipv6';
    const bits = family === 'ipv4' ? 32 : 128;
    const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= bits)) {
      throw new Error(`invalid trusted proxy: ${JSON.stringify(raw)}`);
    }
    // BlockList matches IPv4-mapped IPv6 against IPv4 rules and vice versa.
    blocks.addSubnet(addr, prefix, family);
  }
  const size = list.length;
  return {
    size,
    has: (ip) => size > 0 && blocks.check(ip, isIPv4(ip) ? 'ipv4' : 'ipv6'),
  };
}

/**
 * Canonical text of an IP address, or undefined if `s` is not one: IPv4 dotted decimal; IPv6
 * compressed and lower-case (RFC 5952); an IPv4-mapped IPv6 address becomes its IPv4 form, so a
 * dual-stack socket and an IPv4 proxy list agree on one key. A zone id (`%eth0`) is dropped.
 */
export function canonicalIp(s: string): string | undefined {
  if (isIPv4(s)) return s; // node accepts only strict dotted decimal, already canonical
  if (!isIPv6(s)) return undefined;
  const zone = s.indexOf('%');
  const bare = zone === -1 ? s : s.slice(0, zone);
  let host: string;
  try {
    // The WHATWG URL host serializer is exactly RFC 5952 compression, lower-case.
    host = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped === null) return host;
  const hi = parseInt(mapped[1] as string, 16);
  const lo = parseInt(mapped[2] as string, 16);
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/**
 * `xff` is every X-Forwarded-For line joined with ', '. Returns undefined only when the peer is
 * unknown or not an IP (embedded hosts): the caller then skips the address limiter rather than
 * sharing one bucket among everyone.
 */
export function clientAddress(peer: string | undefined, xff: string | undefined, trusted: TrustedProxies): string | undefined {
  if (peer === undefined) return undefined;
  const peerIp = canonicalIp(peer);
  if (peerIp === undefined) return undefined;
  if (xff === undefined || !trusted.has(peerIp)) return peerIp;
  // Right to left: entries further left were written by hops we have no reason to believe.
  const entries = xff.split(',');
  for (let i = entries.length - 1; i >= 0; i--) {
    const ip = canonicalIp((entries[i] as string).trim());
    if (ip === undefined || trusted.has(ip)) continue;
    return ip;
  }
  return peerIp;
}
