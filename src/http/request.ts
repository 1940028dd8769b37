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
