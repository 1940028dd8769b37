import type { Context, Hono } from 'hono';
import { login } from '../../auth/login.js';
import { endSession } from '../../auth/logout.js';
import { mintMockToken } from '../../auth/mock-token.js';
import { accountExists } from '../../auth/provision.js';
import { PermissionDenied, validateRequest } from '../../auth/validate.js';
import { logSafe, shortId, type Logger } from '../../util/logger.js';
import { audit, auditKey } from '../../util/audit.js';
import { statusOf } from '../errors.js';
import { missingPermissions } from '../middleware/refusal-log.js';
import { AuthError } from '../../errors.js';
import type { AuthService } from '../../service.js';
import { refreshTokens } from '../../tokens/refresh.js';
import { readJsonBody } from '../body.js';
import { ok, send } from '../respond.js';
import { allowHeaders } from '../validate-answer.js';
import { callbackPage } from '../pages/callback.js';
import { NO_PROVIDER_PAGE, UI_NOT_BUILT_PAGE } from '../pages/login.js';
import { bundleFrom, rawAssetName, type BundleFile, type StaticBundle } from '../static-bundle.js';
import { loginBody, logoutBody, mockTokenBody, passkeyLoginOptionsBody, refreshBody } from '../schemas.js';
import { loginOptions } from '../../second-factor/passkeys.js';
import { forwardedHeaders, hostSource, methodNotAllowed, peerAddress, type ForwardedHeaders } from '../request.js';
import type { ValidateDecision } from '../../metrics/index.js';

/** The X-Auth-Error value of a refused validation is its decision label (wire §7.7). */
function validateDecision(e: AuthError): ValidateDecision {
  switch (e.code) {
    case 'missing_token':
    case 'token_expired':
    case 'token_revoked':
    case 'invalid_node':
    case 'permission_denied':
      return e.code;
    default:
      return 'invalid_token';
  }
}

export const DECISION_MESSAGE = 'forward-auth decision';

/**
 * `-v` (debug): one line per `/auth/validate` answer given by the app — `decision` allow or deny,
 * the `reason` (the X-Auth-Error value: missing_token, token_expired, permission_denied…), for
 * permission_denied the permission(s) the forwarded route `needed`, the forwarded method and path
 * (never the query, where a token may travel) and the key id's prefix when the token was verified.
 * (The validate lane steps aside while debug is on, so every decision passes here.)
 */
function logDecision(log: Logger, forwarded: ForwardedHeaders, outcome: { allow: string } | { deny: unknown }): void {
  const line: Record<string, unknown> = {};
  if ('allow' in outcome) {
    line.decision = 'allow';
    line.key = logSafe(shortId(outcome.allow));
  } else {
    const e = outcome.deny;
    line.decision = 'deny';
    line.reason = e instanceof AuthError ? e.code : 'internal';
    if (e instanceof PermissionDenied) {
      line.key = logSafe(shortId(e.keyId));
      if (forwarded.method !== undefined && forwarded.uri !== undefined) {
        line.needed = missingPermissions(e.effective, forwarded.method, pathOfUri(forwarded.uri));
      }
    }
  }
  if (forwarded.method !== undefined) line.forwarded_method = logSafe(forwarded.method);
  if (forwarded.uri !== undefined) line.forwarded_path = logSafe(pathOfUri(forwarded.uri));
  log.debug(line, DECISION_MESSAGE);
}

const pathOfUri = (uri: string): string => {
  const q = uri.indexOf('?');
  return q === -1 ? uri : uri.slice(0, q);
};

const JWKS_HEADERS = { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' };
const OPENAPI_HEADERS = { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' };
const HTML = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' };

const tokenPair = (pair: { access_token: string; refresh_token: string }) => ({
  access_token: pair.access_token,
  refresh_token: pair.refresh_token,
  error: null,
});

export interface AuthRouteOptions {
  /** The login page bundle; default: read once from defaultBundleDir() (static-bundle.ts). */
  frontend?: StaticBundle;
}

/** The public `/auth/*` routes (wire §3), with explicit 405s per path (wire §1.2). */
export function registerAuthRoutes(app: Hono, svc: AuthService, opts: AuthRouteOptions = {}): void {
  const { core } = svc;
  const { config } = core;

  app.post('/auth/token', async (c) => {
    const body = await readJsonBody(c, loginBody).catch((e: unknown) => {
      core.metrics.login('bad_request');
      throw e;
    });
    const address = svc.addresses.resolve(peerAddress(c), c.req.header('x-forwarded-for'));
    const pair = await login(core, svc.limiters, body, address);
    return ok(c, tokenPair(pair));
  });
  app.all('/auth/token', methodNotAllowed('POST'));

  // Issue 13: a passkey sign-in starts here (the challenge, bound to a fresh attempt id).
  app.post('/auth/passkey/options', async (c) => {
    const address = svc.addresses.resolve(peerAddress(c), c.req.header('x-forwarded-for'));
    if (address !== undefined && config.providers.passkey.enabled) {
      const now = core.clock.nowMs();
      const limit = svc.limiters.ceremonies.check(address, now);
      if (limit.locked) {
        throw new AuthError('rate_limited', 'Too many passkey sign-in attempts; please try again later', {
          retryAfter: limit.retryAfter,
        });
      }
      svc.limiters.ceremonies.recordFailure(address, now);
    }
    const bodyless = c.req.header('content-type') === undefined && (await c.req.text()) === '';
    const body = bodyless ? {} : await readJsonBody(c, passkeyLoginOptionsBody);
    return ok(c, await loginOptions(core, body.username ?? undefined));
  });
  app.all('/auth/passkey/options', methodNotAllowed('POST'));

  app.post('/auth/refresh', async (c) => {
    const body = await readJsonBody(c, refreshBody);
    const pair = await refreshTokens(core, body.access_token, body.refresh_token, hostSource(c, config));
    return ok(c, tokenPair(pair));
  });
  app.all('/auth/refresh', methodNotAllowed('POST'));

  app.post('/auth/logout', async (c) => {
    const body = await readJsonBody(c, logoutBody);
    await endSession(core, body.refresh_token);
    return ok(c, { success: true, message: 'Session ended' });
  });
  app.all('/auth/logout', methodNotAllowed('POST'));

  const enforce = config.forward_auth.enforce_permissions;
  const validate = async (c: Context) => {
    const forwarded = forwardedHeaders(c, config.server.trusted_proxies);
    const { claims } = await validateRequest(core, {
      authorization: c.req.header('authorization'),
      host: hostSource(c, config, forwarded),
      forwardedUri: forwarded.uri,
      forwardedMethod: forwarded.method,
      enforce,
    });
    core.metrics.validate('allow');
    if (core.log.isLevelEnabled('debug')) logDecision(core.log, forwarded, { allow: claims.sub });
    return ok(c, '', allowHeaders(claims));
  };
  const countedValidate = async (c: Context) => {
    try {
      return await validate(c);
    } catch (e) {
      if (e instanceof AuthError) core.metrics.validate(validateDecision(e));
      if (core.log.isLevelEnabled('debug'))
        logDecision(core.log, forwardedHeaders(c, config.server.trusted_proxies), { deny: e });
      throw e;
    }
  };
  app.get('/auth/validate', countedValidate);
  app.post('/auth/validate', countedValidate);
  app.all('/auth/validate', methodNotAllowed('GET,HEAD,POST'));

  app.get('/auth/providers', async (c) => {
    const providers: unknown[] = [];
    if (config.providers.user_password) {
      const configured = await accountExists(core).catch(() => true);
      providers.push({
        name: 'user_password',
        type: 'credentials',
        description: 'Authenticates users with username and password credentials',
        configured,
        config: { enabled: true, description: 'Username and password authentication' },
      });
    }
    // Issue 13: listed only when enabled, after user_password, so clients that read the first
    // entry (or look for user_password by name) see what they saw before.
    if (config.providers.passkey.enabled) {
      providers.push({
        name: 'passkey',
        type: 'webauthn',
        description: 'Authenticates users with a passkey (WebAuthn)',
        configured: await anyPasskey(core).catch(() => true),
        config: {
          enabled: true,
          description: 'Passkey sign-in',
          rp_id: config.providers.passkey.rp_id,
          options_endpoint: '/auth/passkey/options',
        },
      });
    }
    return ok(c, { providers, count: providers.length });
  });
  app.all('/auth/providers', methodNotAllowed('GET,HEAD'));

  // The public keys of the verify set (issue 12): a bare JWK Set (RFC 7517 §5), not an envelope,
  // so any JOSE library reads it. Under HS256 there is no public key: 404 in the usual envelope.
  app.get('/auth/jwks.json', (c) => {
    if (core.secrets.algorithm === 'HS256') {
      throw new AuthError('not_found', 'No public keys: jwt.algorithm is HS256 (a shared secret)');
    }
    return send(c, JSON.stringify({ keys: core.secrets.publicJwks() }), 200, JWKS_HEADERS);
  });
  app.all('/auth/jwks.json', methodNotAllowed('GET,HEAD'));

  // The OpenAPI 3.1 document of /auth/* and /admin/* (issue 12): public, like /auth/providers;
  // it changes only with the service version. Loaded on first request: the generator and the
  // document are ~6 MB of heap a node that never asks for them should not carry (issue 11).
  app.get('/auth/openapi.json', async (c) => {
    const { openApiJson } = await import('../openapi/document.js');
    return send(c, openApiJson(), 200, OPENAPI_HEADERS);
  });
  app.all('/auth/openapi.json', methodNotAllowed('GET,HEAD'));

  app.get('/auth/health', async (c) => {
    const storage = await svc.storageAlive();
    return ok(c, {
      status: storage ? 'alive' : 'not_alive',
      storage,
      uptime_seconds: Math.floor((core.clock.nowMs() - svc.startedAtMs) / 1000),
    });
  });
  app.all('/auth/health', methodNotAllowed('GET,HEAD'));

  app.get('/auth/ready', async (c) => {
    const reasons = await svc.readiness();
    if (reasons.length > 0) throw new AuthError('not_ready', `Service not ready: ${reasons.join(', ')}`);
    return ok(c, { status: 'ready', storage: true, secrets: true });
  });
  app.all('/auth/ready', methodNotAllowed('GET,HEAD'));

  app.get('/auth/callback', (c) => send(c, callbackPage(c.req.query('callback-url')), 200, HTML));
  app.all('/auth/callback', methodNotAllowed('GET,HEAD'));

  // The login UI (wire §3.1): the page is made once, with the callback allowlist inserted.
  const frontend = opts.frontend ?? bundleFrom();
  const loginPage = config.providers.user_password
    ? (frontend.loginPage(config.frontend.allowed_callback_origins) ?? UI_NOT_BUILT_PAGE)
    : NO_PROVIDER_PAGE;
  app.get('/auth/login', (c) => send(c, loginPage, 200, HTML));
  app.all('/auth/login', methodNotAllowed('GET,HEAD'));
  // Found only by exact name in the in-memory manifest; anything else is a 404, never index.html.
  const serveFile = (c: Context, file: BundleFile | undefined, cacheControl: string) =>
    file === undefined
      ? send(c, 'File not found', 404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
      : new Response(file.body, {
          status: 200,
          headers: {
            'content-type': file.contentType,
            'content-length': String(file.body.byteLength),
            'cache-control': cacheControl,
          },
        });
  // `/auth/assets/*` would also match `/auth/assets` itself, which is no route (wire §1.2).
  app.get('/auth/assets/:path{.+}', (c) => {
    const name = rawAssetName(c.req.url);
    return serveFile(c, name === undefined ? undefined : frontend.asset(name), 'public, max-age=31536000, immutable');
  });
  app.all('/auth/assets/:path{.+}', methodNotAllowed('GET,HEAD'));
  app.get('/auth/favicon.ico', (c) => serveFile(c, frontend.faviconFile(), 'public, max-age=86400'));
  app.all('/auth/favicon.ico', methodNotAllowed('GET,HEAD'));

  if (config.development.enable_mock_auth) registerMockToken(app, svc);
}

/** At least one passkey is registered (the provider's `configured`). */
async function anyPasskey(core: AuthService['core']): Promise<boolean> {
  for await (const _ of core.store.iterate('passkey:')) return true;
  return false;
}

/** `POST /auth/mock-token` (wire §3.9); registered only when mock auth is enabled. */
function registerMockToken(app: Hono, svc: AuthService): void {
  const { core } = svc;
  app.post('/auth/mock-token', async (c) => {
    const body = await readJsonBody(c, mockTokenBody);
    // Mock tokens carry admin: each mint (or refused attempt) leaves an audit line.
    const peer = peerAddress(c);
    const client = svc.addresses.resolve(peer, c.req.header('x-forwarded-for')) ?? peer;
    let minted;
    try {
      minted = await mintMockToken(core, c.req.header('authorization'), body);
    } catch (e) {
      const refused = e instanceof AuthError && statusOf(e.code) < 500;
      audit(core.log, {
        action: 'mock_token.mint',
        actor: undefined,
        client,
        result: refused ? 'refused' : 'error',
        reason: (e as Error).message,
      });
      throw e;
    }
    const { keyId, pair } = minted;
    audit(core.log, { action: 'mock_token.mint', actor: undefined, target: auditKey(keyId), client, result: 'ok' });
    return ok(c, tokenPair(pair), {
      'x-mock-token': 'true',
      'x-key-id': keyId,
      'x-warning': 'Mock token - for testing only',
    });
  });
  app.all('/auth/mock-token', methodNotAllowed('POST'));
}
