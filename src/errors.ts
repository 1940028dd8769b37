/**
 * The one error type of the service. Every failure that reaches HTTP is an AuthError with a code
 * from this closed set; `src/http/errors.ts` maps each code to a status, an `X-Auth-Error` value
 * and a body shape in one place.
 */
export const ERROR_CODES = [
  // Token and session failures that carry an X-Auth-Error value (wire §2.2).
  'missing_token',
  'token_expired',
  'invalid_token',
  'token_revoked',
  'invalid_node',
  'invalid_request',
  'permission_denied',
  'token_reuse',
  // Envelope errors without X-Auth-Error.
  'bad_request', // 400 envelope
  'unauthorized', // 401 envelope, no X-Auth-Error (login failures, refresh checks)
  'second_factor_required', // 401 envelope, no X-Auth-Error: a password login must continue (issue 13)
  'forbidden', // 403 envelope, no X-Auth-Error
  'reauthentication_required', // 403 envelope, no X-Auth-Error: sign in again to change second factors (issue 13)
  'not_found', // 404 envelope
  'rate_limited', // 429 envelope + Retry-After
  'busy', // 503 envelope + Retry-After: 1
  'not_ready', // 503 envelope, no Retry-After
  'unavailable', // 503 envelope + Retry-After: the shared database cannot be reached
  'internal', // 500 envelope with a specific message
  // Body extraction (wire §2.1 shape 2).
  'invalid_json', // 400 {"error","status"}
  'validation_failed', // 422 {"error","status"}
  // Transport-level.
  'payload_too_large', // 413 text/plain "length limit exceeded"
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface AuthErrorOptions {
  /** Seconds for a Retry-After header (rate_limited, busy). */
  retryAfter?: number;
  cause?: unknown;
}

export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly code: ErrorCode;
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message: string, options: AuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfter = options.retryAfter;
  }
}

export function isAuthError(e: unknown): e is AuthError {
  return e instanceof AuthError;
}

/**
 * The answer for a failure caused by the database being unreachable (a StoreUnavailableError,
 * code `STORE_UNAVAILABLE`, anywhere in the cause chain): 503 with Retry-After instead of a 500,
 * since nothing was acknowledged and a retry may succeed. Undefined for any other failure.
 */
export function unavailableFrom(e: unknown): AuthError | undefined {
  for (let cur = e, depth = 0; cur instanceof Error && depth < 10; cur = cur.cause, depth++) {
    if ((cur as { code?: unknown }).code === 'STORE_UNAVAILABLE') {
      return new AuthError('unavailable', 'Service temporarily unavailable: the database cannot be reached', {
        retryAfter: 1,
        cause: e,
      });
    }
  }
  return undefined;
}
