import type { Core } from '../core.js';
import { AuthError, unavailableFrom } from '../errors.js';
import { CHAIN_BROKEN, chainSteps } from '../keys/ancestry.js';
import { isExpired, isRevoked, type KeyRecord } from '../keys/key.js';
import { effectivePermissions } from '../permissions/effective.js';
import type { TokenClaims } from '../tokens/claims.js';
import { checkForwardedRoute } from '../permissions/forward-auth.js';
import { NEEDS_JOSE, verifyAccessSync, verifyWithCore } from '../tokens/core-verify.js';
import type { SessionRecord } from '../tokens/session.js';
import { checkNodeHost, type HostSource } from '../tokens/node-host.js';
import { TokenError } from '../tokens/token-error.js';
import { nowSeconds } from '../util/clock.js';
import { isVisibleAscii } from '../util/visible-ascii.js';

export interface Authenticated {
  claims: TokenClaims;
  key: KeyRecord;
  /** Claims ∩ the key's current permissions, in claim order (wire §4.5 step 7). */
  effective: string[];
}

/** Where the token came from and which answers the caller gives (wire §3.4 vs §4.5). */
export type CheckFlavour = 'validate' | 'bearer';

/** What the decision needs from outside: the asynchronous verifier, a key, or a session. */
type Need = { kind: 'verify'; token: string } | { kind: 'key'; id: string } | { kind: 'session'; sid: string };

type Decision<T> = Generator<Need, T, unknown>;

/** One lookup; a storage failure becomes the entry point's answer (lookupFailure). */
function* lookup<T>(need: Need): Decision<T> {
  try {
    return (yield need) as T;
  } catch (e) {
    throw lookupFailure(e);
  }
}

/**
 * THE access decision (wire §4.5, §3.4 rows 1–5): the token's signature and claims, node binding,
 * the key, its ancestor chain, the session. Written once as a generator that asks for what it
 * needs; the drivers below answer from memory (the validate lane, the hot path of every route)
 * or from storage. So every rule reaches every entry point, and the cached answer is the stored
 * one by construction. Throws the AuthError the flavour prescribes: `/auth/validate` answers 403
 * invalid_node and hides an expired key as "Key not found"; the bearer check answers 401
 * invalid_token for both.
 */
function* decideAccess(core: Core, token: string, host: HostSource, flavour: CheckFlavour): Decision<Authenticated> {
  let claims: TokenClaims;
  try {
    const sync = verifyAccessSync(core, token);
    claims = sync === NEEDS_JOSE ? ((yield { kind: 'verify', token }) as TokenClaims) : sync;
  } catch (e) {
    if (e instanceof TokenError && e.kind === 'expired') {
      throw new AuthError('token_expired', `Invalid token: ${e.message}`);
    }
    throw new AuthError('invalid_token', `Invalid token: ${(e as Error).message}`);
  }
  const hostProblem = checkNodeHost(claims.node_url, host);
  if (hostProblem !== undefined) {
    throw new AuthError(flavour === 'validate' ? 'invalid_node' : 'invalid_token', hostProblem);
  }
  const key = yield* lookup<KeyRecord | undefined>({ kind: 'key', id: claims.sub });
  if (!key) throw new AuthError('invalid_token', 'Key not found');
  if (isRevoked(key)) throw new AuthError('token_revoked', 'Key has been revoked');
  const now = nowSeconds(core.clock);
  if (isExpired(key, now)) {
    throw new AuthError('invalid_token', flavour === 'validate' ? 'Key not found' : 'Key expired');
  }
  if (key.key_type === 'Client') {
    const steps = chainSteps(key, now);
    let step = steps.next();
    while (!step.done) step = steps.next(yield* lookup<KeyRecord | undefined>({ kind: 'key', id: step.value }));
    if (step.value !== undefined) throw new AuthError('token_revoked', CHAIN_BROKEN);
  }
  const session = yield* lookup<SessionRecord | undefined>({ kind: 'session', sid: claims.sid });
  if (!session) throw new AuthError('invalid_token', 'Session not found');
  if (session.revoked_at !== null) throw new AuthError('token_revoked', 'Session has been revoked');
  return { claims, key, effective: effectiveOf(claims, key) };
}

/**
 * Forward auth's 403 `permission_denied`, remembering who was refused and what they hold, so the
 * decision log can name the permission the forwarded route needs.
 */
export class PermissionDenied extends AuthError {
  constructor(
    readonly keyId: string,
    readonly effective: readonly string[],
  ) {
    super('permission_denied', 'Permission denied');
  }
}

/** What `/auth/validate` reads from a request (the forwarded values only from a trusted proxy). */
export interface ValidateRequest {
  authorization: string | undefined;
  /** The request's Host and `jwt.node_host`, and the forwarded host when believed. */
  host: HostSource;
  forwardedUri: string | undefined;
  forwardedMethod: string | undefined;
  /** `forward_auth.enforce_permissions`. */
  enforce: boolean;
}

/** The decision of `/auth/validate` (wire §3.4): the token source, the access decision, forward-auth. */
function* decideValidate(core: Core, req: ValidateRequest): Decision<Authenticated> {
  const token = tokenFromRequest(req.authorization, req.forwardedUri);
  if (token === undefined) throw new AuthError('missing_token', 'No token provided');
  const auth = yield* decideAccess(core, token, req.host, 'validate');
  // Forward-auth authorisation (wire §3.4 row 6): only when the proxy says what it forwards.
  if (req.enforce && checkForwardedRoute(auth.effective, req.forwardedMethod, req.forwardedUri) === 'deny') {
    throw new PermissionDenied(auth.claims.sub, auth.effective);
  }
  return auth;
}

/** Drives a decision from memory alone: its answer, or undefined at the first thing not cached. */
function fromMemory<T>(core: Core, steps: Decision<T>): T | undefined {
  let step = steps.next();
  while (!step.done) {
    const need = step.value;
    const found =
      need.kind === 'verify' ? undefined : need.kind === 'key' ? core.keys.peek(need.id) : core.sessions.peek(need.sid);
    if (found === undefined) return undefined;
    step = steps.next(found);
  }
  return step.value;
}

/** Drives a decision to its end: memory first, storage (or jose) for the rest. */
async function fromStorage<T>(core: Core, steps: Decision<T>): Promise<T> {
  let step = steps.next();
  while (!step.done) {
    const need = step.value;
    let found: unknown;
    try {
      if (need.kind === 'verify') found = await verifyWithCore(core, need.token, 'access');
      else if (need.kind === 'key') found = core.keys.peek(need.id) ?? (await core.keys.get(need.id));
      else found = core.sessions.peek(need.sid) ?? (await core.sessions.get(need.sid));
    } catch (e) {
      step = steps.throw(e);
      continue;
    }
    step = steps.next(found);
  }
  return step.value;
}

/** Verifies an access token and everything behind it (decideAccess), for the bearer routes. */
export function authenticateAccess(core: Core, token: string, host: HostSource, flavour: CheckFlavour): Promise<Authenticated> {
  return fromStorage(core, decideAccess(core, token, host, flavour));
}

/** `/auth/validate`'s decision for the app: throws its refusal as an AuthError. */
export function validateRequest(core: Core, req: ValidateRequest): Promise<Authenticated> {
  return fromStorage(core, decideValidate(core, req));
}

/**
 * `/auth/validate`'s decision from memory, without an await, for the validate lane: the allow the
 * app would give, or undefined when anything is not cached or the answer is a refusal (the app
 * then gives it, with its exact error).
 */
export function validateFromMemory(core: Core, req: ValidateRequest): Authenticated | undefined {
  try {
    return fromMemory(core, decideValidate(core, req));
  } catch {
    return undefined;
  }
}

// Cached claims and key records are frozen and replaced (never mutated) when they change, so the
// intersection can be remembered per pair of objects.
const effectiveMemo = new WeakMap<TokenClaims, { key: KeyRecord; effective: string[] }>();

function effectiveOf(claims: TokenClaims, key: KeyRecord): string[] {
  const hit = effectiveMemo.get(claims);
  if (hit !== undefined && hit.key === key) return hit.effective;
  const effective = effectivePermissions(claims.permissions, key.permissions);
  if (Object.isFrozen(claims) && Object.isFrozen(key))
    effectiveMemo.set(claims, { key, effective: Object.freeze(effective) as string[] });
  return effective;
}

/** Token sources of `/auth/validate`, in order (wire §3.4). */
export function tokenFromRequest(authorization: string | undefined, forwardedUri: string | undefined): string | undefined {
  if (authorization !== undefined && isVisibleAscii(authorization) && authorization.startsWith('Bearer ')) {
    return authorization.slice(7).trim();
  }
  if (forwardedUri !== undefined) {
    const q = forwardedUri.indexOf('?');
    if (q !== -1) {
      const end = forwardedUri.indexOf('?', q + 1);
      const query = forwardedUri.slice(q + 1, end === -1 ? undefined : end);
      for (const item of query.split('&')) {
        if (item.startsWith('token=')) return item.slice('token='.length);
      }
    }
  }
  return undefined;
}

/**
 * A failed key or session lookup: Rust's 401 `Failed to verify key`, except when the shared
 * database is out of reach — then 503, so a client does not throw away a good token.
 */
function lookupFailure(e: unknown): AuthError {
  return unavailableFrom(e) ?? new AuthError('invalid_token', 'Failed to verify key');
}
