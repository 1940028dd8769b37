/**
 * The OpenAPI 3.1 document of `/auth/*` and `/admin/*` (issue 12), served at `/auth/openapi.json`.
 * Request bodies are the zod schemas the routes validate with (schemas.ts), the same objects;
 * response bodies are in responses.ts. test/helpers/openapi.ts checks every response the HTTP
 * tests receive against this document, so a status, header or body shape that is not described
 * here fails a test.
 *
 * What OpenAPI cannot say per operation is said with extensions the drift check reads too:
 * `x-other-methods` on a path item (what any method it does not list answers: 405 + `Allow`),
 * `x-unmatched-paths` and `x-cors-preflight` at the root, and `x-empty-body` on a response that
 * is also given with an empty body (the /admin middleware's rejections).
 */
import { z } from 'zod';
import {
  createDocument,
  type ZodOpenApiObject,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathItemObject,
  type ZodOpenApiResponseObject,
} from 'zod-openapi';
import { determineRequiredPermissions, renderPermission } from '../../permissions/index.js';
import { VERSION } from '../../version.js';
import { allowOf } from '../routes/admin-table.js';
import {
  clientKeyBody,
  loginBody,
  logoutBody,
  mockTokenBody,
  passkeyLoginOptionsBody,
  passkeyRegisterBody,
  refreshBody,
  SESSIONS_PAGE,
  secondFactorBody,
  sessionsQuery,
  totpConfirmBody,
  revokeAllSessionsBody,
  revokeBody,
  updatePermissionsBody,
} from '../schemas.js';
import * as r from './responses.js';
import {
  bodyErrors,
  empty,
  err,
  errXae,
  HTML_TYPE,
  JSON_TYPE,
  ok,
  optional,
  required,
  responsesOf,
  RETRY_AFTER,
  text,
  type Header,
  type Variant,
} from './variants.js';

// ── Answers shared by many routes ─────────────────────────────────────────────────────────────

const TOO_LARGE = text(
  413,
  'The body is over `security.max_body_size`: plain text `length limit exceeded`',
  z.literal('length limit exceeded'),
);
const PANIC = text(500, 'An uncaught exception: plain text `Service panicked`', z.literal('Service panicked'));
const UNAVAILABLE = err(503, '`Service temporarily unavailable: the database cannot be reached` (retry)', {
  'Retry-After': required(RETRY_AFTER),
});
const NOT_FOUND = empty(404, 'No route: empty body, no Content-Type');

/** What the /admin middleware answers before any handler (wire §5.1): empty bodies. */
const GUARD: Variant[] = [
  empty(400, 'Middleware: `Authorization` missing or not `Bearer <token>` (X-Auth-Error `invalid_request`)', {
    'X-Auth-Error': required(z.enum(['invalid_request'])),
  }),
  empty(401, 'Middleware: the token expired (`token_expired`) or fails verification (`invalid_token`)', {
    'X-Auth-Error': required(z.enum(['token_expired', 'invalid_token'])),
  }),
  empty(
    403,
    "Middleware: the key or session is revoked (`token_revoked`), or the caller lacks the route's permission (`permission_denied`)",
    {
      'X-Auth-Error': required(z.enum(['token_revoked', 'permission_denied'])),
    },
  ),
  UNAVAILABLE,
];

/** Only a path with a parameter can be refused this way: its raw and decoded forms must name it. */
const GUARD_NOT_FOUND = empty(
  404,
  'Middleware: the raw path names no route (an encoded slash or backslash in a parameter, or an encoded spelling of another route)',
);

/** On every /admin answer given after the middleware passed (wire §2.3). */
const CALLER: Record<string, Header> = {
  'X-Auth-User': optional(z.string(), "The caller's key id"),
  'X-Auth-Permissions': optional(z.string(), "The caller's effective permissions, comma-joined; absent when none"),
};

/** Every answer of the routes that hand out tokens is uncacheable (RFC 6749 §5.1). */
const NO_STORE: Record<string, Header> = {
  'Cache-Control': required(z.literal('no-store')),
  Pragma: required(z.literal('no-cache')),
};

const withHeaders = (vs: readonly Variant[], headers: Record<string, Header>): Variant[] =>
  vs.map((v) => ({ ...v, headers: { ...headers, ...v.headers } }));

// ── Operations ────────────────────────────────────────────────────────────────────────────────

interface Op {
  id: string;
  summary: string;
  description?: string;
  body?: { schema: z.ZodType; required?: boolean; description?: string };
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: z.ZodObject;
  answers: Variant[];
}

const json = (schema: z.ZodType) => ({ content: { [JSON_TYPE]: { schema } } });

function operation(
  op: Op,
  tag: 'auth' | 'admin' | 'login page',
  extra: Partial<ZodOpenApiOperationObject> = {},
): ZodOpenApiOperationObject {
  const requestParams = {
    ...(op.params ? { path: op.params } : {}),
    ...(op.query ? { query: op.query } : {}),
    ...(op.headers ? { header: op.headers } : {}),
  };
  return {
    operationId: op.id,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [tag],
    ...(Object.keys(requestParams).length > 0 ? { requestParams } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: op.body.required ?? true,
            ...(op.body.description ? { description: op.body.description } : {}),
            ...json(op.body.schema),
          },
        }
      : {}),
    responses: responsesOf(op.answers),
    ...extra,
  };
}

/** A GET and its HEAD twin: same status and headers, no body (wire §1.2). */
function getAndHead(op: Op, tag: 'auth' | 'admin' | 'login page', extra?: Partial<ZodOpenApiOperationObject>) {
  return {
    get: operation(op, tag, extra),
    head: operation({ ...op, id: `${op.id}Head`, summary: `${op.summary} (headers only)` }, tag, extra),
  };
}

/**
 * The 405 (and 413) of a method the path does not list; on /admin the middleware runs first.
 * `notFound`: the path can also answer the empty 404 (mock-token when disabled, the middleware's
 * raw-path refusal on a path with a parameter).
 */
function otherMethods(allow: string, admin: boolean, notFound = false): Record<string, unknown> {
  const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });
  const callerHeaders = admin
    ? {
        'X-Auth-User': { description: "The caller's key id", schema: { type: 'string' } },
        'X-Auth-Permissions': { description: "The caller's effective permissions", schema: { type: 'string' } },
      }
    : {};
  return {
    ...(admin ? { '400': ref('AdminBadRequest'), '401': ref('AdminUnauthorized'), '403': ref('AdminForbidden') } : {}),
    ...(notFound ? { '404': ref('NotFound') } : {}),
    '405': {
      description: `Method not allowed: empty body, \`Allow: ${allow}\``,
      headers: { Allow: { required: true, schema: { type: 'string', const: allow } }, ...callerHeaders },
    },
    '413': ref('PayloadTooLarge'),
    ...(admin ? { '503': ref('Unavailable') } : {}),
  };
}

// ── /auth/* ───────────────────────────────────────────────────────────────────────────────────

const FORWARDED = z.object({
  'X-Forwarded-Uri': z.string().optional().meta({
    description:
      'The proxied URI: a `?token=` in its query is the second token source; with X-Forwarded-Method, the route enforced',
  }),
  'X-Forwarded-Method': z.string().optional().meta({ description: 'The proxied method (forward-auth enforcement)' }),
  'X-Forwarded-Host': z.string().optional().meta({ description: 'The host a node-bound token is checked against' }),
});

const validateOp = (id: string, method: string): Op => ({
  id,
  summary: `Forward-auth decision and session probe (${method})`,
  description:
    'The token comes from `Authorization: Bearer` or from `?token=` inside `X-Forwarded-Uri`. X-Forwarded-* ' +
    'headers are believed only from `server.trusted_proxies`. With X-Forwarded-Method and X-Forwarded-Uri (and ' +
    '`forward_auth.enforce_permissions`), the forwarded route is authorised with the permission table. A proxy ' +
    'copies `X-Auth-User` and `X-Auth-Permissions` from the 200 onto the upstream request.',
  headers: FORWARDED,
  answers: [
    ok(z.literal(''), 'Allowed', {
      'X-Auth-User': optional(z.string(), "The token's subject (key id)"),
      'X-Auth-Permissions': optional(z.string(), "The token's permissions claim, comma-joined; absent when empty"),
    }),
    errXae(
      401,
      ['missing_token', 'token_expired', 'invalid_token'],
      '`No token provided`, `Invalid token: …`, `Key not found`, `Session not found`, `Failed to verify key`',
    ),
    errXae(
      403,
      ['invalid_node', 'token_revoked', 'permission_denied'],
      'Node binding failed, `Key has been revoked`, `Session has been revoked`, `Permission denied`',
    ),
    UNAVAILABLE,
    TOO_LARGE,
    PANIC,
  ],
});

const AUTH_PATHS: Record<string, ZodOpenApiPathItemObject> = {
  '/auth/token': {
    post: operation(
      {
        id: 'login',
        summary: 'Log in: an access and refresh token pair',
        body: { schema: loginBody.schema, description: '`auth_method`, `public_key` and `client_name` must not be empty (422).' },
        answers: withHeaders(
          [
            ok(r.tokenPair, 'The token pair'),
            ...bodyErrors(true),
            err(
              400,
              'Empty after sanitising: `Authentication method must contain valid characters`, `Public key cannot be empty after sanitization`, `Client name cannot be empty after sanitization`',
            ),
            err(
              401,
              '`Authentication failed: …` (credentials, method, provider data, password length, node binding, passkey, second-factor code); no X-Auth-Error. ' +
                'For an account with a second factor, a correct password alone answers `Second factor required: totp. …` or `Second factor required: passkey. …` (issue 13)',
            ),
            err(429, '`Too many failed login attempts; please try again later`', { 'Retry-After': required(RETRY_AFTER) }),
            err(500, '`Failed to generate tokens`'),
            err(503, '`Too many concurrent login attempts; please try again later`', { 'Retry-After': required(RETRY_AFTER) }),
            UNAVAILABLE,
            TOO_LARGE,
            PANIC,
          ],
          NO_STORE,
        ),
      },
      'auth',
    ),
    'x-other-methods': otherMethods('POST', false),
  },
  '/auth/refresh': {
    post: operation(
      {
        id: 'refresh',
        summary: 'Exchange an expired access token and its single-use refresh token for a new pair',
        description: 'Never answers `X-Auth-Error: token_expired`.',
        body: { schema: refreshBody.schema },
        answers: withHeaders(
          [
            ok(r.tokenPair, 'The new pair'),
            ...bodyErrors(true),
            errXae(
              401,
              ['token_reuse'],
              '`Access token still valid`, `Invalid access token: …`, `Invalid refresh token: …`, `Access and refresh tokens do not belong to the same subject`; a replayed refresh token: `Refresh token reuse detected; re-authentication required` with X-Auth-Error `token_reuse`',
              false,
            ),
            errXae(
              403,
              ['invalid_node', 'token_revoked'],
              'Node binding failed (`invalid_node`); key, session or parent authorisation revoked (`token_revoked`)',
            ),
            err(500, '`Failed to refresh token: …`'),
            UNAVAILABLE,
            TOO_LARGE,
            PANIC,
          ],
          NO_STORE,
        ),
      },
      'auth',
    ),
    'x-other-methods': otherMethods('POST', false),
  },
  '/auth/logout': {
    post: operation(
      {
        id: 'logout',
        summary: "End the refresh token's session (idempotent)",
        body: { schema: logoutBody.schema },
        answers: [
          ok(z.object({ success: z.literal(true), message: z.literal('Session ended') }), 'Ended, or nothing left to end'),
          ...bodyErrors(true),
          err(401, '`Invalid refresh token: …`'),
          err(500, '`Failed to end session: Storage error: …`'),
          UNAVAILABLE,
          TOO_LARGE,
          PANIC,
        ],
      },
      'auth',
    ),
    'x-other-methods': otherMethods('POST', false),
  },
  '/auth/passkey/options': {
    post: operation(
      {
        id: 'passkeyLoginOptions',
        summary: 'Start a passkey sign-in: a single-use challenge bound to a fresh attempt id',
        description:
          'Then `POST /auth/token` with `auth_method: "passkey"` and `provider_data: {"attempt_id", "response"}`. No body (no Content-Type) means `{}`; a `username` binds the challenge to that account.',
        body: { schema: passkeyLoginOptionsBody.schema, required: false },
        answers: [
          ok(r.ceremonyStart, 'The attempt id and the request options (no allowCredentials: passkeys are discoverable)'),
          ...bodyErrors(false),
          err(404, '`Passkeys are not enabled on this node`'),
          err(429, '`Too many passkey sign-in attempts; please try again later`', { 'Retry-After': required(RETRY_AFTER) }),
          UNAVAILABLE,
          TOO_LARGE,
          PANIC,
        ],
      },
      'auth',
    ),
    'x-other-methods': otherMethods('POST', false),
  },
  '/auth/validate': {
    ...getAndHead(validateOp('validate', 'GET'), 'auth', { security: [{ bearer: [] }, {}] }),
    post: operation(validateOp('validatePost', 'POST; any body is ignored'), 'auth', { security: [{ bearer: [] }, {}] }),
    'x-other-methods': otherMethods('GET,HEAD,POST', false),
  },
  '/auth/providers': {
    ...getAndHead(
      { id: 'providers', summary: 'The enabled login providers', answers: [ok(r.providers, 'The providers'), TOO_LARGE, PANIC] },
      'auth',
    ),
    'x-other-methods': otherMethods('GET,HEAD', false),
  },
  '/auth/jwks.json': {
    ...getAndHead(
      {
        id: 'jwks',
        summary: 'The public signing keys (EdDSA / ES256)',
        answers: [
          {
            status: 200,
            says: 'A bare JWK Set (not enveloped)',
            content: { [JSON_TYPE]: r.jwkSet },
            headers: { 'Cache-Control': required(z.literal('public, max-age=300')) },
          },
          err(
            404,
            'Under `jwt.algorithm = "HS256"` there is no public key: `No public keys: jwt.algorithm is HS256 (a shared secret)`',
          ),
          TOO_LARGE,
          PANIC,
        ],
      },
      'auth',
    ),
    'x-other-methods': otherMethods('GET,HEAD', false),
  },
  '/auth/health': {
    ...getAndHead(
      {
        id: 'health',
        summary: 'Liveness (always 200)',
        answers: [ok(r.health, 'Alive; `storage` says whether the store answers'), TOO_LARGE, PANIC],
      },
      'auth',
    ),
    'x-other-methods': otherMethods('GET,HEAD', false),
  },
  '/auth/ready': {
    ...getAndHead(
      {
        id: 'ready',
        summary: 'Readiness',
        answers: [ok(r.ready, 'Ready'), err(503, '`Service not ready: <storage, secrets, shutting down>`'), TOO_LARGE, PANIC],
      },
      'auth',
    ),
    'x-other-methods': otherMethods('GET,HEAD', false),
  },
  '/auth/openapi.json': {
    ...getAndHead(
      {
        id: 'openapi',
        summary: 'This document',
        answers: [
          {
            status: 200,
            says: 'The OpenAPI 3.1 document of /auth/* and /admin/*',
            content: { [JSON_TYPE]: r.openApiObject },
            headers: { 'Cache-Control': required(z.literal('public, max-age=3600')) },
          },
          TOO_LARGE,
          PANIC,
        ],
      },
      'auth',
    ),
    'x-other-methods': otherMethods('GET,HEAD', false),
  },
  '/auth/callback': {
    ...getAndHead(
      {
        id: 'callback',
        summary: 'Legacy callback page: links to the login page',
        answers: [text(200, 'The page (`Cache-Control: no-store`)', z.string(), HTML_TYPE), TOO_LARGE, PANIC],
      },
      'login page',
    ),
    'x-other-methods': otherMethods('GET,HEAD', false),
  },
  '/auth/login': {
    ...getAndHead(
      {
        id: 'loginPage',
        summary: 'The login page',
        description: 'Query parameters (`callback-url`, `permissions`, `app-url`, …) are read by the page, not the server.',
        answers: [text(200, 'The page (`Cache-Control: no-store`)', z.string(), HTML_TYPE), TOO_LARGE, PANIC],
      },
      'login page',
    ),
    'x-other-methods': otherMethods('GET,HEAD', false),
  },
  '/auth/assets/{path}': {
    ...getAndHead(
      {
        id: 'asset',
        summary: "A file of the login page's bundle (immutable, content-hashed)",
        params: z.object({
          path: z.string().meta({ description: 'The file name under assets/, slashes included', 'x-matches-slashes': true }),
        }),
        answers: [
          {
            status: 200,
            says: 'The file; its Content-Type from the extension',
            content: Object.fromEntries(
              [
                'text/javascript',
                'text/css',
                'image/svg+xml',
                'image/png',
                'image/x-icon',
                'font/woff2',
                JSON_TYPE,
                'application/octet-stream',
              ].map((t) => [t, undefined]),
            ),
            headers: { 'Cache-Control': required(z.literal('public, max-age=31536000, immutable')) },
          },
          text(404, 'No such file: plain text `File not found`', z.literal('File not found')),
          TOO_LARGE,
          PANIC,
        ],
      },
      'login page',
    ),
    'x-other-methods': otherMethods('GET,HEAD', false),
  },
  '/auth/favicon.ico': {
    ...getAndHead(
      {
        id: 'favicon',
        summary: 'The favicon',
        answers: [
          { status: 200, says: 'The icon', content: { 'image/x-icon': undefined } },
          text(404, 'No favicon in the bundle: plain text `File not found`', z.literal('File not found')),
          TOO_LARGE,
          PANIC,
        ],
      },
      'login page',
    ),
    'x-other-methods': otherMethods('GET,HEAD', false),
  },
  '/auth/mock-token': {
    post: operation(
      {
        id: 'mockToken',
        summary: 'Development only: mint a token pair without credentials',
        description:
          'Exists only with `development.enable_mock_auth = true`; `Authorization` must equal `mock_auth_header_value`.',
        body: { schema: mockTokenBody.schema },
        answers: withHeaders(
          [
            ok(r.tokenPair, 'The pair', {
              'X-Mock-Token': required(z.literal('true')),
              'X-Key-Id': required(z.string()),
              'X-Warning': required(z.literal('Mock token - for testing only')),
            }),
            ...bodyErrors(true),
            err(400, '`Client name cannot be empty after sanitization`'),
            err(401, '`Invalid or missing authorization for mock endpoint`'),
            NOT_FOUND,
            err(500, '`Failed to create mock key: …`, `Failed to generate mock tokens`'),
            UNAVAILABLE,
            TOO_LARGE,
            PANIC,
          ],
          NO_STORE,
        ),
      },
      'auth',
    ),
    'x-other-methods': otherMethods('POST', false, true),
  },
};

// ── /admin/* ──────────────────────────────────────────────────────────────────────────────────

const keyId = z.object({ key_id: z.string() });

/** The second-factor routes serve an account; a client-key token is refused (issue 13). */
const NOT_AN_ACCOUNT = err(
  403,
  '`Second factors belong to an account: sign in with its username and password first` (a client-key token)',
);
/** A second-factor change from a session not opened by a sign-in within second_factor.reauth_seconds. */
const REAUTH = err(
  403,
  '`Changing second factors needs a recent sign-in: sign in again, then retry` (the session behind the token was not opened by a sign-in within `second_factor.reauth_seconds`; refreshing does not count)',
);

/** An /admin operation: bearer auth, the middleware's answers, the caller headers, the route's permission. */
function admin(method: string, path: string, op: Op): ZodOpenApiOperationObject {
  const needed = determineRequiredPermissions(method, path).map(renderPermission);
  const guard = path.includes('{') ? [...GUARD, GUARD_NOT_FOUND] : GUARD;
  const answers = [...guard, ...withHeaders(op.answers, CALLER), TOO_LARGE, PANIC];
  return operation({ ...op, answers }, 'admin', { security: [{ bearer: [] }], 'x-required-permissions': needed });
}

function adminGetAndHead(path: string, op: Op) {
  return {
    get: admin('GET', path, op),
    head: admin('HEAD', path, { ...op, id: `${op.id}Head`, summary: `${op.summary} (headers only)` }),
  };
}

const ADMIN_OPERATIONS: Record<string, ZodOpenApiPathItemObject> = {
  '/admin/revoke': {
    post: admin('POST', '/admin/revoke', {
      id: 'revokeKey',
      summary: 'Revoke any key (root or client) and its sessions',
      body: { schema: revokeBody.schema },
      answers: [
        ok(r.successMessage, '`Tokens revoked successfully`; `success: false` for the last admin account'),
        ...bodyErrors(true),
        err(400, '`Client ID must contain valid characters`'),
        err(404, '`Key not found`'),
        err(500, '`Failed to revoke tokens: …`'),
      ],
    }),
  },
  '/admin/keys': {
    ...adminGetAndHead('/admin/keys', {
      id: 'listRootKeys',
      summary: 'Every root key, revoked ones included',
      answers: [ok(z.array(r.rootKeyRow), 'The root keys by key id'), err(500, 'A storage error')],
    }),
    post: admin('POST', '/admin/keys', {
      id: 'createAccount',
      summary: 'Create or update a root account (argon2id)',
      description: 'Extraction errors are plain text, as in the Rust service.',
      body: { schema: r.createKeyRequest },
      answers: [
        ok(r.accountUpdated, 'Created or updated'),
        text(400, 'Plain text `Failed to parse the request body as JSON: …`'),
        err(
          400,
          '`Authentication method must contain valid characters`, `Public key cannot be empty after sanitization`, an unusable username',
        ),
        text(415, 'Plain text ``Expected request with `Content-Type: application/json` ``'),
        text(422, 'Plain text `Failed to deserialize the JSON body into the target type: …`'),
        err(500, '`Provider not found`, `Missing or invalid … in provider data`, password length, `Failed to store root key: …`'),
        err(503, '`Too many concurrent login attempts; please try again later`', { 'Retry-After': required(RETRY_AFTER) }),
      ],
    }),
  },
  '/admin/keys/clients': {
    ...adminGetAndHead('/admin/keys/clients', {
      id: 'listClientKeys',
      summary: 'Every client key, revoked ones included',
      answers: [ok(z.array(r.clientKeyRow), 'The client keys by client id'), err(500, '`Failed to list client keys`')],
    }),
  },
  '/admin/client-key': {
    post: admin('POST', '/admin/client-key', {
      id: 'mintClientKey',
      summary: "Mint a client key below the caller's key, and its token pair",
      description: 'The caller must hold the literal `admin` permission (checked by the handler).',
      body: { schema: clientKeyBody.schema },
      answers: withHeaders(
        [
          ok(r.tokenPair, "The client key's pair"),
          ...bodyErrors(false),
          err(400, '`Root key does not have permission: …`'),
          err(401, '`Invalid token`'),
          err(403, '`Token does not have admin permissions`'),
          err(404, '`Root key not found`'),
          err(500, '`Failed to get root key`, `Failed to store client key`, `Failed to generate client tokens`'),
        ],
        NO_STORE,
      ),
    }),
  },
  '/admin/identity': {
    ...adminGetAndHead('/admin/identity', {
      id: 'identity',
      summary: 'Service identity',
      answers: [ok(r.identity, 'The identity')],
    }),
  },
  '/admin/metrics': {
    ...adminGetAndHead('/admin/metrics', {
      id: 'adminMetrics',
      summary: 'Counters since start (JSON)',
      answers: [ok(r.adminMetrics, 'The counters')],
    }),
  },
  '/admin/sessions': {
    ...adminGetAndHead('/admin/sessions', {
      id: 'listSessions',
      summary: "The caller's live sessions (its key and the client keys below it)",
      description:
        'Most recently active first, `limit` rows a page; follow `next_cursor` for the next. A session refreshed between two pages moves to the top (a later page may then miss it).',
      query: sessionsQuery,
      answers: [
        ok(
          z.object({ sessions: z.array(r.sessionRow), next_cursor: z.string().nullable() }),
          'One page; never a token. `next_cursor` is null on the last page',
        ),
        err(
          400,
          `\`Invalid limit: expected an integer from 1 to ${SESSIONS_PAGE.max}\`, \`Invalid cursor: pass the next_cursor of the previous page unchanged\``,
        ),
        err(500, '`Failed to list sessions: Storage error: …`'),
      ],
    }),
  },
  '/admin/sessions/revoke-all': {
    post: admin('POST', '/admin/sessions/revoke-all', {
      id: 'revokeAllSessions',
      summary: 'Sign out everywhere',
      description: 'No body (no Content-Type) means `{}`; `keep_current: true` spares the calling session.',
      body: { schema: revokeAllSessionsBody.schema, required: false },
      answers: [
        ok(r.sessionsRevoked, 'How many sessions ended'),
        ...bodyErrors(false),
        err(500, '`Failed to end sessions: Storage error: …`'),
      ],
    }),
  },
  '/admin/sessions/{sid}': {
    delete: admin('DELETE', '/admin/sessions/{sid}', {
      id: 'endSession',
      summary: "End one of the caller's sessions (idempotent)",
      params: z.object({ sid: z.string() }),
      answers: [
        ok(r.sessionEnded, 'Ended (also when it had already ended)'),
        err(404, "`Session not found`: unknown, or outside the caller's scope"),
        err(500, '`Failed to end session: Storage error: …`'),
      ],
    }),
  },
  '/admin/passkeys': {
    ...adminGetAndHead('/admin/passkeys', {
      id: 'listPasskeys',
      summary: "The calling account's passkeys, oldest first",
      answers: [ok(z.object({ passkeys: z.array(r.passkeyRow) }), 'The passkeys'), NOT_AN_ACCOUNT],
    }),
    post: admin('POST', '/admin/passkeys', {
      id: 'registerPasskey',
      summary: 'Register a passkey for the calling account (the attestation answering /admin/passkeys/options)',
      body: { schema: passkeyRegisterBody.schema },
      answers: [
        ok(r.passkeyRow, 'The stored passkey'),
        ...bodyErrors(true),
        err(
          400,
          '`Passkey registration refused: …` (origin, RP ID, signature, user verification), `The passkey challenge was already used: ask for new options`, `The passkey challenge has expired: ask for new options`, `The passkey challenge was issued to another account`, `This passkey is already registered`',
        ),
        NOT_AN_ACCOUNT,
        REAUTH,
        err(404, '`Passkeys are not enabled on this node`'),
      ],
    }),
  },
  '/admin/passkeys/options': {
    post: admin('POST', '/admin/passkeys/options', {
      id: 'passkeyRegistrationOptions',
      summary: 'Start a passkey registration for the calling account',
      answers: [
        ok(r.ceremonyStart, 'The attempt id and the creation options (resident key and user verification required)'),
        NOT_AN_ACCOUNT,
        REAUTH,
        err(404, '`Passkeys are not enabled on this node`'),
      ],
    }),
  },
  '/admin/passkeys/{credential_id}': {
    delete: admin('DELETE', '/admin/passkeys/{credential_id}', {
      id: 'deletePasskey',
      summary: "Remove one of the calling account's passkeys",
      params: z.object({ credential_id: z.string() }),
      answers: [
        ok(z.object({ deleted: z.literal(true) }), 'Removed'),
        err(400, '`This is the last passkey and the account requires one: change second_factor first`'),
        NOT_AN_ACCOUNT,
        REAUTH,
        err(404, "`Passkey not found`: unknown, or another account's"),
      ],
    }),
  },
  '/admin/second-factor': {
    ...adminGetAndHead('/admin/second-factor', {
      id: 'secondFactorStatus',
      summary: "The calling account's second factor, passkeys and recovery codes left",
      answers: [ok(r.secondFactorStatus, 'The status'), NOT_AN_ACCOUNT],
    }),
    put: admin('PUT', '/admin/second-factor', {
      id: 'setSecondFactor',
      summary: 'Set what a password sign-in of the calling account must add: none, a passkey or a TOTP code',
      body: { schema: secondFactorBody.schema },
      answers: [
        ok(r.secondFactorSet, 'Set; fresh recovery codes when a factor was turned on and none were left'),
        ...bodyErrors(false),
        err(400, '`Register a passkey first`, `Enrol TOTP first (POST /admin/totp)`, `Passkeys are not enabled on this node`'),
        NOT_AN_ACCOUNT,
        REAUTH,
      ],
    }),
  },
  '/admin/totp': {
    post: admin('POST', '/admin/totp', {
      id: 'startTotp',
      summary: 'Start (or restart) TOTP enrolment: a new seed, pending until confirmed',
      answers: [ok(r.totpEnrolment, 'The seed, its otpauth URI and QR code'), NOT_AN_ACCOUNT, REAUTH],
    }),
  },
  '/admin/totp/confirm': {
    post: admin('POST', '/admin/totp/confirm', {
      id: 'confirmTotp',
      summary: 'Confirm the pending seed with a code from it: TOTP becomes the second factor',
      body: { schema: totpConfirmBody.schema },
      answers: [
        ok(r.recoveryCodes, 'Ten recovery codes, shown this once'),
        ...bodyErrors(true),
        err(
          400,
          '`Wrong code`, `This code was already used: wait for the next one`, `No TOTP enrolment in progress: start one first`, `The TOTP enrolment changed meanwhile: start again`',
        ),
        NOT_AN_ACCOUNT,
        REAUTH,
      ],
    }),
  },
  '/admin/keys/{key_id}': {
    delete: admin('DELETE', '/admin/keys/{key_id}', {
      id: 'revokeRootKey',
      summary: 'Revoke a root key and its sessions (never the last one)',
      params: keyId,
      answers: [
        ok(r.rootKeyRevoked, 'Revoked; or `status: false` for the last active root key or admin account'),
        err(400, '`Not a root key`'),
        err(404, '`Root key not found`'),
        err(500, '`Failed to check root keys`, `Failed to get root key`, `Failed to update root key`'),
      ],
    }),
  },
  '/admin/keys/{key_id}/clients/{client_id}': {
    delete: admin('DELETE', '/admin/keys/{key_id}/clients/{client_id}', {
      id: 'revokeClientKey',
      summary: 'Revoke a client key of a root key, and its sessions',
      params: z.object({ key_id: z.string(), client_id: z.string() }),
      answers: [
        ok(r.clientKeyRevoked, 'Revoked'),
        err(400, '`Client key does not belong to specified root key`'),
        err(404, '`Client key not found`'),
        err(500, '`Failed to get client key`, `Failed to revoke client key`'),
      ],
    }),
  },
  '/admin/keys/{key_id}/permissions': {
    ...adminGetAndHead('/admin/keys/{key_id}/permissions', {
      id: 'keyPermissions',
      summary: "A valid key's permissions",
      params: keyId,
      answers: [
        ok(r.permissionList, 'The permissions'),
        err(404, '`Key not found`'),
        err(500, '`Failed to get key permissions`'),
      ],
    }),
    put: admin('PUT', '/admin/keys/{key_id}/permissions', {
      id: 'updateKeyPermissions',
      summary: "Add or remove a key's permissions (never beyond the caller's own)",
      params: keyId,
      body: { schema: updatePermissionsBody.schema },
      answers: [
        ok(r.permissionList, 'The final list'),
        ...bodyErrors(false),
        err(
          400,
          '`Invalid permission format: …`, `Key must have at least one permission`, `Root key does not have permission: …`',
        ),
        err(403, '`Cannot grant permissions that exceed your own`'),
        err(404, '`Key not found`'),
        err(500, '`Failed to get key`, `Failed to update key permissions`'),
      ],
    }),
  },
};

/**
 * `x-other-methods` of each `/admin` path from the `Allow` lists the routes answer with
 * (src/http/routes/admin.ts), so the two cannot disagree; a parameterised path can also be a 404.
 */
const ADMIN_PATHS: Record<string, ZodOpenApiPathItemObject> = Object.fromEntries(
  Object.entries(ADMIN_OPERATIONS).map(([path, item]) => {
    const allow = allowOf(path.replace(/\{(\w+)\}/g, ':$1'));
    if (!allow) throw new Error(`OpenAPI: ${path} is not in the /admin route table`);
    return [path, { ...item, 'x-other-methods': otherMethods(allow, true, path.includes('{')) }];
  }),
);

// ── The document ──────────────────────────────────────────────────────────────────────────────

const component = (v: Variant): ZodOpenApiResponseObject =>
  responsesOf([v])[String(v.status) as '200'] as ZodOpenApiResponseObject;

const DESCRIPTION = `The HTTP API of mero-auth, the authentication service of a Calimero node (a drop-in for the Rust mero-auth).

Conventions:
* Every JSON body a handler produces is the envelope \`{"data": …, "error": null | "message"}\`; body-extraction failures are \`{"error": "…", "status": N}\`.
* Every response carries the security headers and CORS headers of the configuration (not listed per response).
* A path that names no route (matching is on the raw path: no decoding, and a dot segment names no route) answers an empty 404 (\`x-unmatched-paths\`); a CORS preflight (OPTIONS with Access-Control-Request-Method) an empty 204 on any path (\`x-cors-preflight\`).
* A method a path does not list answers 405 with \`Allow\` (\`x-other-methods\` of the path item); under /admin the bearer check runs first.
* A response marked \`x-empty-body\` is also given with an empty body and no Content-Type (the /admin middleware's rejections, with X-Auth-Error).
* \`x-required-permissions\`: what the /admin middleware requires of the caller's effective permissions (the permission table, on the full path).`;

function build(): Record<string, unknown> {
  const spec: ZodOpenApiObject & Record<string, unknown> = {
    openapi: '3.1.0',
    info: {
      title: 'mero-auth',
      version: VERSION,
      description: DESCRIPTION,
      license: { name: 'MIT OR Apache-2.0', identifier: 'MIT OR Apache-2.0' },
    },
    tags: [
      { name: 'auth', description: 'Public routes: login, refresh, logout, forward auth, status' },
      { name: 'admin', description: 'Protected routes: `Authorization: Bearer <access token>`' },
      { name: 'login page', description: 'The bundled login UI' },
    ],
    paths: { ...AUTH_PATHS, ...ADMIN_PATHS },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      responses: {
        NotFound: component(NOT_FOUND),
        PayloadTooLarge: component(TOO_LARGE),
        Unavailable: component(UNAVAILABLE),
        AdminBadRequest: component(GUARD[0] as Variant),
        AdminUnauthorized: component(GUARD[1] as Variant),
        AdminForbidden: component(GUARD[2] as Variant),
        CorsPreflight: component(empty(204, 'A CORS preflight, answered before routing and authentication: empty body')),
      },
    },
    'x-unmatched-paths': {
      '404': { $ref: '#/components/responses/NotFound' },
      '413': { $ref: '#/components/responses/PayloadTooLarge' },
    },
    'x-cors-preflight': { '204': { $ref: '#/components/responses/CorsPreflight' } },
  };
  return createDocument(spec) as unknown as Record<string, unknown>;
}

let memo: { doc: Record<string, unknown>; json: string } | undefined;
const built = () =>
  (memo ??= (() => {
    const doc = build();
    return { doc, json: JSON.stringify(doc) };
  })());

/** The document, built once on first use. */
export function openApiDocument(): Readonly<Record<string, unknown>> {
  return built().doc;
}

/** The document as served. */
export function openApiJson(): string {
  return built().json;
}
