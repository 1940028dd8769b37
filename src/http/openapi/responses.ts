/**
 * The response bodies of `/auth/*` and `/admin/*` as zod schemas, for the OpenAPI document only
 * (the handlers build their bodies by hand; test/helpers/openapi.ts checks every body the HTTP
 * tests receive against these, so they cannot drift apart). Objects are closed
 * (`additionalProperties: false` in an output schema): a new field must be documented.
 */
import { z } from 'zod';

const uint = z.number().int().nonnegative();

/** `{"data": X, "error": null}` (wire §2.1 shape 1). */
export const envelope = <T extends z.ZodType>(data: T) => z.object({ data, error: z.null() });

export const errorEnvelope = z.object({ data: z.null(), error: z.string() }).meta({
  id: 'ErrorEnvelope',
  description: 'A handler error (wire §2.1 shape 1): `data` is null, `error` the message.',
});

/** Body extraction or validation failure (wire §2.1 shape 2): no `data` key, `status` = the HTTP status. */
export const extractionError = (status: 400 | 422) =>
  z
    .object({ error: z.string(), status: z.literal(status) })
    .meta({ description: `Body extraction failure: \`Invalid JSON: …\` (400) or \`Validation error: …\` (422).` });

/** The token pair inside `data`, with its own `"error": null` (wire §2.1). */
export const tokenPair = z
  .object({ access_token: z.string(), refresh_token: z.string(), error: z.null() })
  .meta({ id: 'TokenPair', description: 'An access token and its single-use refresh token (JWS compact).' });

export const successMessage = z.object({ success: z.boolean(), message: z.string() });

export const providers = z
  .object({
    providers: z.array(
      z.union([
        z.object({
          name: z.literal('user_password'),
          type: z.literal('credentials'),
          description: z.string(),
          configured: z.boolean().meta({ description: 'At least one account exists (true on a storage error).' }),
          config: z.object({ enabled: z.literal(true), description: z.string() }),
        }),
        z
          .object({
            name: z.literal('passkey'),
            type: z.literal('webauthn'),
            description: z.string(),
            configured: z.boolean().meta({ description: 'At least one passkey is registered (true on a storage error).' }),
            config: z.object({
              enabled: z.literal(true),
              description: z.string(),
              rp_id: z.string(),
              options_endpoint: z.literal('/auth/passkey/options'),
            }),
          })
          .meta({ description: 'Listed after user_password, only when `providers.passkey.enabled` (issue 13).' }),
      ]),
    ),
    count: uint,
  })
  .meta({ id: 'Providers' });

// ── Passkeys and second factors (issue 13) ────────────────────────────────────────────────────

/** A WebAuthn ceremony's start: the attempt id to send back, and the options for the browser. */
export const ceremonyStart = z
  .object({
    attempt_id: z.string(),
    options: z.looseObject({ challenge: z.string() }).meta({
      description: 'PublicKeyCredentialCreationOptionsJSON or PublicKeyCredentialRequestOptionsJSON (WebAuthn L3)',
    }),
  })
  .meta({ id: 'CeremonyStart' });

export const passkeyRow = z
  .object({
    credential_id: z.string(),
    name: z.string(),
    created_at: uint,
    last_used_at: uint.nullable(),
    backed_up: z.boolean(),
    device_type: z.enum(['singleDevice', 'multiDevice']),
    transports: z.array(z.string()),
  })
  .meta({ id: 'Passkey' });

export const secondFactorStatus = z.object({
  username: z.string(),
  second_factor: z.enum(['none', 'passkey', 'totp']),
  totp_enrolled: z.boolean(),
  recovery_codes_left: uint,
  passkeys: z.array(passkeyRow),
  passkeys_enabled: z.boolean(),
});

export const secondFactorSet = z.object({
  second_factor: z.enum(['none', 'passkey', 'totp']),
  recovery_codes: z.array(z.string()).meta({ description: 'Fresh recovery codes, shown this once (empty when none were made)' }),
});

export const totpEnrolment = z.object({
  secret: z.string().meta({ description: 'The seed in base32' }),
  otpauth_uri: z.string(),
  qr_svg: z.string().meta({ description: 'The otpauth URI as a QR code: a `data:image/svg+xml;base64,` URL' }),
});

export const recoveryCodes = z.object({ recovery_codes: z.array(z.string()) });

export const health = z.object({ status: z.enum(['alive', 'not_alive']), storage: z.boolean(), uptime_seconds: uint });

export const ready = z.object({ status: z.literal('ready'), storage: z.literal(true), secrets: z.literal(true) });

/** RFC 7517 §5 JWK Set of the public signing keys (bare, not enveloped). */
export const jwkSet = z
  .object({
    keys: z.array(
      z.object({
        kty: z.enum(['OKP', 'EC']),
        crv: z.enum(['Ed25519', 'P-256']),
        x: z.string(),
        y: z.string().optional(),
        kid: z.string(),
        alg: z.enum(['EdDSA', 'ES256']),
        use: z.literal('sig'),
      }),
    ),
  })
  .meta({
    id: 'JwkSet',
    description: 'The public keys of the verify set: the current key, then the previous one during the overlap.',
  });

/** This document, loosely: enough to tell it from anything else. */
export const openApiObject = z
  .object({
    openapi: z.string(),
    info: z.object({ title: z.string(), version: z.string() }).loose(),
    paths: z.object({}).loose(),
  })
  .loose();

export const rootKeyRow = z
  .object({
    key_id: z.string(),
    public_key: z.string().nullable(),
    auth_method: z.string().nullable(),
    created_at: uint,
    revoked_at: uint.nullable(),
    permissions: z.array(z.string()),
  })
  .meta({ id: 'RootKey' });

export const clientKeyRow = z
  .object({
    client_id: z.string(),
    root_key_id: z.string(),
    name: z.string(),
    permissions: z.array(z.string()),
    created_at: uint,
    revoked_at: uint.nullable(),
    is_valid: z.boolean(),
  })
  .meta({ id: 'ClientKey' });

export const accountUpdated = z.object({ status: z.literal(true), message: z.enum(['Key was created', 'Key was updated']) });

export const rootKeyRevoked = z.union([
  z.object({ key_id: z.string(), revoked_at: uint }),
  z
    .object({ status: z.literal(false), message: z.string() })
    .meta({ description: 'The last active root key (or admin) is never revoked.' }),
]);

export const clientKeyRevoked = z.object({ message: z.literal('Client key revoked successfully'), revoked_at: uint });

export const permissionList = z.object({ permissions: z.array(z.string()) });

export const identity = z.object({
  service: z.literal('calimero-auth'),
  version: z.string(),
  authentication_mode: z.literal('forward'),
  providers: z.array(z.string()),
});

export const adminMetrics = z.object({
  auth_attempts: uint,
  auth_successes: uint,
  auth_failures: uint,
  auth_success_rate: z.number().min(0).max(100),
  auth_avg_duration_ms: uint,
  auth_failures_by_type: z.record(z.string(), uint),
  token_refreshes: uint,
  token_revocations: uint,
});

export const sessionRow = z
  .object({
    sid: z.string(),
    client_name: z.string().nullable(),
    created_at: uint,
    last_refresh_at: uint.nullable(),
    address: z.string().nullable(),
    current: z.boolean().meta({ description: 'The session of the token making the request.' }),
  })
  .meta({ id: 'Session' });

export const sessionEnded = z.object({ sid: z.string(), ended: z.literal(true) });

export const sessionsRevoked = z.object({ revoked: uint });

/**
 * `POST /admin/keys` has no zod schema at its route: it keeps the Rust service's plain extraction
 * (plain-text 415/400/422, routes/admin.ts). This describes the same fields for the document.
 */
export const createKeyRequest = z
  .object({
    public_key: z.string(),
    auth_method: z.string().meta({ description: 'Only `user_password` works.' }),
    provider_data: z.unknown().meta({ description: '`{"username": string, "password": string}` for `user_password`.' }),
    target_node_url: z.string().nullish(),
  })
  .meta({ id: 'CreateKeyRequest' });
