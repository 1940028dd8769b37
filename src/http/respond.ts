import type { Context } from 'hono';
import type { AuthError } from '../errors.js';
import { errorResponse, okResponse } from './errors.js';

/**
 * Responses that already carry the headers every response must have (security, CORS, Vary).
 * The edge middleware hands those over as one plain object before the handler runs; a
 * response built from it is complete, so the middlewares leave it alone on the way out. That
 * keeps the hot path free of Headers objects (@hono/node-server then writes the plain object
 * straight to the socket). Responses built any other way get the headers set afterwards.
 */
const complete = new WeakSet<Response>();
const KEY = 'mero-auth:base-headers';

type Headerish = Record<string, string>;

export function setBaseHeaders(c: Context, headers: Readonly<Headerish>): void {
  c.set(KEY as never, headers as never);
}

const NONE: Readonly<Headerish> = Object.freeze({});
function base(c: Context): Readonly<Headerish> {
  return (c.get(KEY as never) as Headerish | undefined) ?? NONE;
}

export function isComplete(res: Response): boolean {
  return complete.has(res);
}

function mark(res: Response): Response {
  complete.add(res);
  return res;
}

/** A body with the base headers; they win over the handler's (wire §2.5: they replace). */
export function send(c: Context, body: string | null, status: number, headers: Headerish = {}): Response {
  return mark(new Response(body, { status, headers: { ...headers, ...base(c) } }));
}

export function ok(c: Context, data: unknown, headers?: Headerish): Response {
  return mark(okResponse(data, headers, base(c)));
}

export function fail(c: Context, err: AuthError, opts: { bodyless?: boolean; headers?: Headerish } = {}): Response {
  return mark(errorResponse(err, opts, { ...opts.headers, ...base(c) }));
}
