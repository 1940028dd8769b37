import type { Context } from 'hono';
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
