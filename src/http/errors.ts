import { AuthError, unavailableFrom, type ErrorCode } from '../errors.js';

/** The single place where error codes become HTTP: status, X-Auth-Error and body shape. */
interface Mapping {
  status: number;
  /** The `X-Auth-Error` value, when the code carries one (wire §2.2). */
  xae?: string;
  shape: 'envelope' | 'extraction' | 'text';
}

const MAPPING: Record<ErrorCode, Mapping> = {
  missing_token: { status: 401, xae: 'missing_token', shape: 'envelope' },
  token_expired: { status: 401, xae: 'token_expired', shape: 'envelope' },
  invalid_token: { status: 401, xae: 'invalid_token', shape: 'envelope' },
  token_revoked: { status: 403, xae: 'token_revoked', shape: 'envelope' },
  invalid_node: { status: 403, xae: 'invalid_node', shape: 'envelope' },
  invalid_request: { status: 400, xae: 'invalid_request', shape: 'envelope' },
  permission_denied: { status: 403, xae: 'permission_denied', shape: 'envelope' },
  token_reuse: { status: 401, xae: 'token_reuse', shape: 'envelope' },
  bad_request: { status: 400, shape: 'envelope' },
  unauthorized: { status: 401, shape: 'envelope' },
  second_factor_required: { status: 401, shape: 'envelope' },
  forbidden: { status: 403, shape: 'envelope' },
  reauthentication_required: { status: 403, shape: 'envelope' },
  not_found: { status: 404, shape: 'envelope' },
  rate_limited: { status: 429, shape: 'envelope' },
  busy: { status: 503, shape: 'envelope' },
  not_ready: { status: 503, shape: 'envelope' },
  unavailable: { status: 503, shape: 'envelope' },
  internal: { status: 500, shape: 'envelope' },
  invalid_json: { status: 400, shape: 'extraction' },
  validation_failed: { status: 422, shape: 'extraction' },
  payload_too_large: { status: 413, shape: 'text' },
};

export function statusOf(code: ErrorCode): number {
  return MAPPING[code].status;
}

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/** The wire answer for an AuthError. `bodyless` gives the middleware-rejection shape (empty). */
export function errorResponse(error: AuthError, opts: { bodyless?: boolean } = {}, base: Record<string, string> = {}): Response {
  // A 500 whose root cause is the database being out of reach is a 503 (retry), not a bug.
  const err = error.code === 'internal' ? (unavailableFrom(error) ?? error) : error;
  const m = MAPPING[err.code];
  const headers: Record<string, string> = {};
  if (m.xae) headers['x-auth-error'] = m.xae;
  if (err.retryAfter !== undefined) headers['retry-after'] = String(err.retryAfter);
  if (opts.bodyless) {
    headers['content-length'] = '0';
    return new Response(null, { status: m.status, headers: { ...headers, ...base } });
  }
  let body: string;
  switch (m.shape) {
    case 'envelope':
      headers['content-type'] = JSON_TYPE;
      body = JSON.stringify({ data: null, error: err.message });
      break;
    case 'extraction':
      headers['content-type'] = JSON_TYPE;
      body = JSON.stringify({ error: err.message, status: m.status });
      break;
    case 'text':
      headers['content-type'] = TEXT_TYPE;
      body = err.message;
      break;
  }
  return new Response(body, { status: m.status, headers: { ...headers, ...base } });
}

/** 200 envelope `{"data":…,"error":null}`. */
export function okResponse(data: unknown, headers?: Record<string, string>, base?: Record<string, string>): Response {
  return new Response(JSON.stringify({ data, error: null }), {
    status: 200,
    headers: { 'content-type': JSON_TYPE, ...headers, ...base },
  });
}

/** An uncaught exception: never a stack trace or an internal message (wire §2.1). */
export function panicResponse(): Response {
  return new Response('Service panicked', { status: 500, headers: { 'content-type': TEXT_TYPE } });
}

export { AuthError };
