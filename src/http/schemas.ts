import { z } from 'zod';
import type { BodySpec } from './body.js';

function defineBody<T>(spec: BodySpec<T>): BodySpec<T> {
  return spec;
}

/**
 * One schema per route body; each is also the documentation of that body (wire §3) and, by its
 * `id`, a schema of the OpenAPI document (openapi/document.ts), which references these objects.
 */
const uint = z.number().int().nonnegative();

/** `POST /auth/token` (wire §3.2). `permissions` is accepted and ignored. */
export const loginBody = defineBody({
  schema: z
    .object({
      auth_method: z.string(),
      public_key: z.string(),
      client_name: z.string(),
      permissions: z.array(z.string()).nullish(),
      timestamp: uint,
      provider_data: z.unknown(),
    })
    .meta({ id: 'LoginRequest' }),
  present: ['auth_method', 'public_key', 'client_name', 'timestamp', 'provider_data'],
  nonEmpty: [
    ['auth_method', 'Authentication method is required'],
    ['public_key', 'Public key is required'],
    ['client_name', 'Client name is required'],
  ],
});

/** `POST /auth/refresh` (wire §3.3). */
export const refreshBody = defineBody({
  schema: z.object({ access_token: z.string(), refresh_token: z.string() }).meta({ id: 'RefreshRequest' }),
  present: ['access_token', 'refresh_token'],
  nonEmpty: [
    ['access_token', 'Access token is required'],
    ['refresh_token', 'Refresh token is required'],
  ],
});

/** `POST /auth/logout` (wire §3.10). */
export const logoutBody = defineBody({
  schema: z.object({ refresh_token: z.string() }).meta({ id: 'LogoutRequest' }),
  present: ['refresh_token'],
  nonEmpty: [['refresh_token', 'Refresh token is required']],
});

/** `POST /auth/mock-token` (wire §3.9). Expiries are accepted and ignored. */
export const mockTokenBody = defineBody({
  schema: z
    .object({
      client_name: z.string(),
      permissions: z.array(z.string()).nullish(),
      node_url: z.string().nullish(),
      access_token_expiry: uint.nullish(),
      refresh_token_expiry: uint.nullish(),
    })
    .meta({ id: 'MockTokenRequest' }),
  present: ['client_name'],
  nonEmpty: [['client_name', 'Client name is required']],
});

/** `POST /admin/revoke` (wire §5.2). */
export const revokeBody = defineBody({
  schema: z.object({ client_id: z.string() }).meta({ id: 'RevokeRequest' }),
  present: ['client_id'],
  nonEmpty: [['client_id', 'Client ID cannot be empty']],
});

/** `POST /admin/client-key` (wire §5.7): every field optional, `{}` is valid; no 422 rules. */
export const clientKeyBody = defineBody({
  schema: z
    .object({
      context_id: z.string().nullish(),
      context_identity: z.string().nullish(),
      permissions: z.array(z.string()).nullish(),
      target_node_url: z.string().nullish(),
    })
    .meta({ id: 'ClientKeyRequest' }),
});

/** `PUT /admin/keys/:key_id/permissions` (wire §5.10): a `permissions` field is ignored; no 422 rules. */
export const updatePermissionsBody = defineBody({
  schema: z
    .object({
      add: z.array(z.string()).nullish(),
      remove: z.array(z.string()).nullish(),
    })
    .meta({ id: 'UpdatePermissionsRequest' }),
});

/**
 * `POST /admin/sessions/revoke-all` (an addition): `{}` or `{"keep_current": true}`; a POST
 * with no body at all (no Content-Type, nothing sent) means `{}`.
 */
export const revokeAllSessionsBody = defineBody({
  schema: z.object({ keep_current: z.boolean().nullish() }).meta({ id: 'RevokeAllSessionsRequest' }),
});

/** `GET /admin/sessions` paging (an addition): rows per page by default and at most. */
export const SESSIONS_PAGE = { default: 100, max: 500 } as const;

/**
 * `GET /admin/sessions?limit=&cursor=`: both optional. A `limit` outside 1–500 or a cursor this
 * service did not issue is a 400, never a silently different page.
 */
export const sessionsQuery = z
  .object({
    limit: z
      .string()
      .regex(/^[1-9][0-9]{0,2}$/)
      .refine((v) => Number(v) <= SESSIONS_PAGE.max)
      .optional()
      .meta({ description: `Rows per page, 1–${SESSIONS_PAGE.max} (default ${SESSIONS_PAGE.default})` }),
    cursor: z
      .string()
      .optional()
      .meta({ description: 'The `next_cursor` of the previous page, unchanged; without it, the first page' }),
  })
  .meta({ id: 'SessionsQuery' });

// ── Passkeys and second factors (issue 13) ────────────────────────────────────────────────────

/** A WebAuthn response as @simplewebauthn/browser sends it; the library checks the inside. */
const webauthnResponse = z.looseObject({
  id: z.string(),
  rawId: z.string(),
  type: z.string(),
  response: z.looseObject({ clientDataJSON: z.string() }),
  clientExtensionResults: z.record(z.string(), z.unknown()).nullish(),
});

/** `POST /auth/passkey/options`: `{}` (any passkey) or `{"username": …}` (that account's only). */
export const passkeyLoginOptionsBody = defineBody({
  schema: z.object({ username: z.string().nullish() }),
});

/**
 * `response.response.transports` of a registration: what the browser reports (known values:
 * usb, nfc, ble, internal, hybrid, cable, smart-card). An array of at most 8 short strings, else
 * a 400; unknown strings (a transport newer than this list) are dropped when the passkey is
 * stored (src/second-factor/passkeys.ts), so a new browser never fails to register.
 */
const transports = z.array(z.string().max(32)).max(8).nullish();

/** `POST /admin/passkeys`: the attempt from `/admin/passkeys/options`, a name, the attestation. */
export const passkeyRegisterBody = defineBody({
  schema: z.object({
    attempt_id: z.string(),
    name: z.string().nullish(),
    response: webauthnResponse.extend({
      response: z.looseObject({ clientDataJSON: z.string(), attestationObject: z.string(), transports }),
    }),
  }),
  present: ['attempt_id', 'response'],
  nonEmpty: [['attempt_id', 'Attempt id is required']],
});

/** `PUT /admin/second-factor`. */
export const secondFactorBody = defineBody({
  schema: z.object({ second_factor: z.enum(['none', 'passkey', 'totp']) }),
  present: ['second_factor'],
});

/** `POST /admin/totp/confirm`: a code from the app, proving the enrolment. */
export const totpConfirmBody = defineBody({
  schema: z.object({ code: z.string() }),
  present: ['code'],
  nonEmpty: [['code', 'Code is required']],
});
