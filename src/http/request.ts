import type { Context } from 'hono';
import { canonicalIp, parseTrustedProxies } from '../auth/client-address.js';
import type { AuthConfig } from '../config/schema.js';
import type { HostSource } from '../tokens/node-host.js';
import { memoize } from '../util/memo.js';
import { send } from './respond.js';

/** 405 with an empty body and the path's `Allow` list (wire §1.2). */
export const methodNotAllowed = (allow: string) => (c: Context) => send(c, null, 405, { allow });

interface NodeBindings {
  incoming?: { socket?: { remoteAddress?: string } };
}

/** The socket peer under @hono/node-server; undefined elsewhere (embedded hosts supply it). */
export function peerAddress(c: Context): string | undefined {
  return (c.env as NodeBindings | undefined)?.incoming?.socket?.remoteAddress;
}

/**
 * The request path exactly as sent: no percent-decoding, no query or fragment. The router matches
 * on it, so routing and the permission table (which matches raw paths, permissions.md §8.1) see
 * the same string: `/admin/keys/client%73` is the `:key_id` route, never `/admin/keys/clients`,
 * and `/auth/%74oken` is no route at all (wire §1.2: no normalisation). Hono still decodes the
 * values of path parameters for the handlers.
 */
export function rawPath(request: Request): string {
  return rawPathOf(request.url);
}

/** rawPath of an absolute URL string. */
export function rawPathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf(':') + 3);
  if (start === -1) return '/';
  let end = start;
  for (; end < url.length; end++) {
    const ch = url.charCodeAt(end);
    if (ch === 63 /* ? */ || ch === 35 /* # */) break;
  }
  return url.slice(start, end);
}

/** Whether a socket peer is one of `server.trusted_proxies`; false when the peer is unknown. */
export type PeerTrust = (peer: string | undefined) => boolean;

const trustByList = new WeakMap<readonly string[], PeerTrust>();

/** The trust check of a proxy list, built once per (frozen) config list; peers remembered. */
export function peerTrust(list: readonly string[]): PeerTrust {
  let trust = trustByList.get(list);
  if (trust === undefined) {
    const proxies = parseTrustedProxies(list);
    const known = memoize((peer) => {
      const ip = canonicalIp(peer);
      return ip !== undefined && proxies.has(ip);
    }, 1024);
    trust = (peer) => peer !== undefined && known(peer);
    trustByList.set(list, trust);
  }
  return trust;
}

/** The X-Forwarded-* values a request is judged by (Host for node binding, Uri and Method). */
export interface ForwardedHeaders {
  host?: string | undefined;
  uri?: string | undefined;
  method?: string | undefined;
}

const NOT_FORWARDED: ForwardedHeaders = Object.freeze({});

/**
 * The forwarded headers, believed only from a trusted proxy: any client can write them, and one
 * that reaches us directly must not pick the host its token is checked against (node binding) or
 * the route it is judged by. From anyone else they do not exist, and `Host` decides.
 */
export function forwardedHeaders(c: Context, trustedProxies: readonly string[]): ForwardedHeaders {
  if (!peerTrust(trustedProxies)(peerAddress(c))) return NOT_FORWARDED;
  return {
    host: c.req.header('x-forwarded-host'),
    uri: c.req.header('x-forwarded-uri'),
    method: c.req.header('x-forwarded-method'),
  };
}

/** Where node binding reads the request's host (wire §4.6): `jwt.node_host`, a trusted proxy's word, or Host. */
export function hostSource(c: Context, config: Pick<AuthConfig, 'jwt' | 'server'>, forwarded?: ForwardedHeaders): HostSource {
  const fwd = forwarded ?? forwardedHeaders(c, config.server.trusted_proxies);
  return { nodeHost: config.jwt.node_host, forwardedHost: fwd.host, host: c.req.header('host') };
}
