/**
 * Syntax checks for configuration values (wire-contract §7.2, §7.3). Pure functions: the schema
 * turns a `false` into a problem line, other modules reuse the parsers at runtime.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';

export interface ListenAddr {
  /** IPv4 dotted, or IPv6 without brackets. */
  host: string;
  port: number;
}

/**
 * `ip:port`, IPv6 in brackets (`[::]:3001`), as Rust's `SocketAddr` parses it: no host names.
 * Port 0 is accepted (an ephemeral port, handy for tests). Throws on anything else.
 */
export function parseListenAddr(s: string): ListenAddr {
  const m = /^(?:\[([^\][]+)\]|([0-9.]+)):([0-9]{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  const host = m ? (m[1] ?? m[2] ?? '') : '';
  const hostOk = m?.[1] !== undefined ? isIPv6(host) : isIPv4(host);
  if (!m || !hostOk || port > 65535) {
    throw new Error(`not an ip:port address: ${JSON.stringify(s)}`);
  }
  return { host, port };
}

export function isListenAddr(s: string): boolean {
  try {
    parseListenAddr(s);
    return true;
  } catch {
    return false;
  }
}

const UNSPECIFIED = new Set(['0.0.0.0', '::']);

/**
 * Whether two listeners would fight over one socket: same port and the same address, or one of
 * them the wildcard address. Port 0 never conflicts (each bind gets its own ephemeral port).
 */
export function listenAddrsConflict(a: string, b: string): boolean {
  const x = parseListenAddr(a);
  const y = parseListenAddr(b);
  if (x.port !== y.port || x.port === 0) return false;
  const hx = canonicalIp(x.host);
  const hy = canonicalIp(y.host);
  return hx === hy || UNSPECIFIED.has(hx) || UNSPECIFIED.has(hy);
}

/** IPv4 dotted; IPv6 compressed and lower-case (the WHATWG host parser does exactly that). */
export function canonicalIp(ip: string): string {
  if (isIPv4(ip)) return ip;
  try {
    return new URL(`http://[${ip}]`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase(); // zone ids (`fe80::1%eth0`) are valid for Node but not for URL
  }
}

/** An IP address or a CIDR block (`10.0.0.0/8`, `fd00::/8`), v4 or v6, without a zone id. */
export function isIpOrCidr(s: string): boolean {
  const slash = s.indexOf('/');
  const ip = slash < 0 ? s : s.slice(0, slash);
  const family = ip.includes('%') ? 0 : isIP(ip);
  if (family === 0) return false;
  if (slash < 0) return true;
  const prefix = s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443' };
const ORIGIN_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)(?::([0-9]{1,5}))?$/;

/**
 * `scheme://host[:port]` with nothing after it (no path, not even `/`), returned in the form a
 * browser sends in `Origin`: scheme and host lower-cased, the default http/https port dropped,
 * so the exact comparison of §2.6 matches. `undefined` when it is not an origin.
 */
export function normalizeOrigin(s: string): string | undefined {
  const m = ORIGIN_RE.exec(s);
  if (!m) return undefined;
  const scheme = (m[1] ?? '').toLowerCase();
  let host = (m[2] ?? '').toLowerCase();
  const port = m[3];
  if (host.startsWith('[')) {
    if (!isIPv6(host.slice(1, -1))) return undefined;
    host = `[${canonicalIp(host.slice(1, -1))}]`;
  }
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return undefined;
  const keepPort = port !== undefined && DEFAULT_PORTS[scheme] !== String(Number(port));
  return `${scheme}://${host}${keepPort ? `:${Number(port)}` : ''}`;
}

export function isOrigin(s: string): boolean {
  return normalizeOrigin(s) !== undefined;
}

export function isHttpOrigin(s: string): boolean {
  const o = normalizeOrigin(s);
  return o !== undefined && (o.startsWith('http://') || o.startsWith('https://'));
}

/** RFC 9110 `token`: HTTP method names and header field names. */
export function isToken(s: string): boolean {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(s);
}

/** Visible ASCII plus space and horizontal tab; what every HTTP stack accepts unchanged. */
export function isHeaderValue(s: string): boolean {
  return /^[\x20-\x7e\t]*$/.test(s);
}

/** OWASP argon2id pairs (memory KiB, iterations); a config must meet one of them in both. */
export const ARGON2_FLOOR: ReadonlyArray<readonly [number, number]> = [
  [47104, 1],
  [19456, 2],
  [12288, 3],
  [9216, 4],
  [7168, 5],
];

export function meetsArgon2Floor(memoryKib: number, iterations: number): boolean {
  return ARGON2_FLOOR.some(([m, t]) => memoryKib >= m && iterations >= t);
}

/**
 * A WebAuthn relying-party id: a lower-case domain name (or `localhost`), no scheme, port, path
 * or trailing dot. IP addresses are refused: browsers do not accept them as RP IDs.
 */
export function isRpId(s: string): boolean {
  if (s.length === 0 || s.length > 253 || s !== s.toLowerCase()) return false;
  const labels = s.split('.');
  if (labels.every((l) => /^\d+$/.test(l))) return false;
  return labels.every((l) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(l));
}

/**
 * Why a configured passkey origin cannot serve `rpId` (WebAuthn §5.1.3: the RP ID must equal the
 * origin's host or be a registrable suffix of it; browsers allow plain http only on localhost),
 * or undefined when it can.
 */
export function passkeyOriginProblem(origin: string, rpId: string): string | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `not an origin: ${JSON.stringify(origin)}`;
  }
  const host = url.hostname;
  if (host !== rpId && !host.endsWith(`.${rpId}`)) {
    return `origin ${origin} is not on the RP ID ${JSON.stringify(rpId)} (its host must be ${rpId} or end in .${rpId})`;
  }
  const local = host === 'localhost' || host.endsWith('.localhost');
  if (url.protocol !== 'https:' && !local) {
    return `origin ${origin} must use https (browsers allow passkeys over http only on localhost)`;
  }
  return undefined;
}
