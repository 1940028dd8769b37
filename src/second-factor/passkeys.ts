import { createHash, randomBytes } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Core } from '../core.js';
import { canonicalUsername } from '../auth/username.js';
import { AuthError } from '../errors.js';
import { isValidKey } from '../keys/key.js';
import { nowSeconds } from '../util/clock.js';
import { logSafe, shortId } from '../util/logger.js';
import type { AccountRef } from './account.js';
import type { PasskeyRecord, TakeChallenge } from './records.js';

/** Loaded on first use: ~4 MB of heap that a node without passkeys never needs (issue 11). */
const webauthn = () => import('@simplewebauthn/server');
type WebAuthn = Awaited<ReturnType<typeof webauthn>>;

/**
 * Passkeys (WebAuthn, issue 13) on @simplewebauthn/server: registration for a signed-in account,
 * and sign-in. Every ceremony starts with a challenge stored server-side under a fresh attempt
 * id, single use and short-lived (providers.passkey.challenge_ttl_seconds); the client sends the
 * attempt id back with the authenticator's response. Origins and the RP ID come from config and
 * are checked by the library on every response; user verification is required (a passkey is
 * then two factors on its own: the device and its PIN or biometric).
 */

export interface CeremonyStart<T> {
  attempt_id: string;
  options: T;
}

/** A failure the caller turns into its answer (401 at sign-in, 400 at registration). */
export class PasskeyRefused extends Error {
  override readonly name = 'PasskeyRefused';
}

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

function enabled(core: Core) {
  const p = core.config.providers.passkey;
  if (!p.enabled || p.rp_id === undefined) throw new AuthError('not_found', 'Passkeys are not enabled on this node');
  return { rpId: p.rp_id, rpName: p.rp_name, origins: p.origins, ttl: p.challenge_ttl_seconds };
}

export function passkeysEnabled(core: Core): boolean {
  return core.config.providers.passkey.enabled;
}

const CHALLENGE_REFUSALS: Record<Exclude<TakeChallenge, { ok: true }>['reason'], string> = {
  unknown: 'Unknown passkey challenge: ask for new options',
  expired: 'The passkey challenge has expired: ask for new options',
  used: 'The passkey challenge was already used: ask for new options',
  purpose: 'The passkey challenge was issued for another ceremony',
};

/** The WebAuthn user handle of an account: derived from its key id, which it does not reveal. */
const userHandle = (keyId: string): Uint8Array =>
  new Uint8Array(createHash('sha256').update(`mero-auth user handle\0${keyId}`).digest());

// ── registration ──────────────────────────────────────────────────────────────────────────────

export async function registrationOptions(
  core: Core,
  account: AccountRef,
): Promise<CeremonyStart<PublicKeyCredentialCreationOptionsJSON>> {
  const { rpId, rpName, ttl } = enabled(core);
  const existing = await core.secondFactors.passkeys(account.username, account.keyId);
  const options = await (await webauthn()).generateRegistrationOptions({
    rpName,
    rpID: rpId,
    userName: account.username,
    userID: userHandle(account.keyId) as Uint8Array<ArrayBuffer>,
    userDisplayName: account.username,
    timeout: ttl * 1000,
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: p.transports })),
    // Discoverable ("resident") credentials, so sign-in needs no username; verification always.
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
  });
  const attemptId = b64url(randomBytes(18));
  await core.secondFactors.putChallenge(attemptId, {
    purpose: 'register',
    challenge: options.challenge,
    username: account.username,
    key_id: account.keyId,
    expires_at: nowSeconds(core.clock) + ttl,
  });
  return { attempt_id: attemptId, options };
}

export interface PasskeyView {
  credential_id: string;
  name: string;
  created_at: number;
  last_used_at: number | null;
  backed_up: boolean;
  device_type: 'singleDevice' | 'multiDevice';
  transports: string[];
}

export const passkeyView = (p: PasskeyRecord): PasskeyView => ({
  credential_id: p.credential_id,
  name: p.name,
  created_at: p.created_at,
  last_used_at: p.last_used_at,
  backed_up: p.backed_up,
  device_type: p.device_type,
  transports: p.transports,
});

/** Verifies an attestation for the account that asked for the options, and stores the credential. */
export async function finishRegistration(
  core: Core,
  account: AccountRef,
  body: { attempt_id: string; name?: string | null | undefined; response: unknown },
): Promise<PasskeyView> {
  const { rpId, origins } = enabled(core);
  const now = nowSeconds(core.clock);
  const taken = await core.secondFactors.takeChallenge(body.attempt_id, 'register', now);
  if (!taken.ok) throw new AuthError('bad_request', CHALLENGE_REFUSALS[taken.reason]);
  if (taken.record.key_id !== account.keyId || taken.record.username !== account.username) {
    throw new AuthError('bad_request', 'The passkey challenge was issued to another account');
  }
  let verified: Awaited<ReturnType<WebAuthn['verifyRegistrationResponse']>>;
  try {
    verified = await (await webauthn()).verifyRegistrationResponse({
      response: body.response as RegistrationResponseJSON,
      expectedChallenge: taken.record.challenge,
      expectedOrigin: origins,
      expectedRPID: rpId,
      requireUserVerification: true,
    });
  } catch (e) {
    throw new AuthError('bad_request', `Passkey registration refused: ${(e as Error).message}`);
  }
  if (!verified.verified) throw new AuthError('bad_request', 'Passkey registration refused: not verified');
  const info = verified.registrationInfo;
  const name =
    (body.name ?? '')
      .replace(/[\p{Cc}\p{Cf}]/gu, '')
      .trim()
      .slice(0, 64) || 'Passkey';
  const record: PasskeyRecord = {
    credential_id: info.credential.id,
    username: account.username,
    key_id: account.keyId,
    public_key: b64url(info.credential.publicKey),
    counter: info.credential.counter,
    transports: knownTransports(info.credential.transports),
    device_type: info.credentialDeviceType,
    backed_up: info.credentialBackedUp,
    name,
    created_at: now,
    last_used_at: null,
  };
  await core.accountLock.run(async () => {
    if ((await core.secondFactors.getPasskey(record.credential_id)) !== undefined) {
      throw new AuthError('bad_request', 'This passkey is already registered');
    }
    await core.store.batch(core.secondFactors.passkeyOps(record));
  });
  core.log.info({ key: shortId(account.keyId) }, 'passkey registered');
  return passkeyView(record);
}

/** The transports WebAuthn Level 3 names (plus the legacy `cable`); other values are dropped. */
const KNOWN_TRANSPORTS = new Set(['usb', 'nfc', 'ble', 'internal', 'hybrid', 'cable', 'smart-card']);

/** The library passes the client's list through as sent: checked again here, whatever it is. */
function knownTransports(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return [...new Set(list.filter((t): t is string => typeof t === 'string' && KNOWN_TRANSPORTS.has(t)))].slice(0, 8);
}

// ── sign-in ───────────────────────────────────────────────────────────────────────────────────

/**
 * Options for a sign-in. No allowCredentials: credentials are discoverable, and listing them
 * would tell anyone which usernames have passkeys. A username, when given, only binds the
 * challenge: the credential that answers must belong to that account.
 */
export async function loginOptions(
  core: Core,
  username: string | undefined,
): Promise<CeremonyStart<PublicKeyCredentialRequestOptionsJSON>> {
  const { rpId, ttl } = enabled(core);
  // Accounts are stored under their canonical username (src/auth/username.ts): `Admin` is `admin`.
  const canonical = username === undefined ? undefined : canonicalUsername(username);
  const bound = canonical === undefined ? null : canonical.ok ? canonical.name : username;
  const options = await (await webauthn()).generateAuthenticationOptions({
    rpID: rpId,
    userVerification: 'required',
    timeout: ttl * 1000,
  });
  const attemptId = b64url(randomBytes(18));
  await core.secondFactors.putChallenge(attemptId, {
    purpose: 'login',
    challenge: options.challenge,
    username: bound ?? null,
    key_id: null,
    expires_at: nowSeconds(core.clock) + ttl,
  });
  return { attempt_id: attemptId, options };
}

export interface PasskeyAccount {
  username: string;
  keyId: string;
  permissions: string[];
}

/** `provider_data` of a passkey sign-in, or the reason it is not one. */
export function passkeyDataProblem(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'expected an object';
  const d = data as Record<string, unknown>;
  if (typeof d.attempt_id !== 'string' || d.attempt_id === '') return 'missing field `attempt_id`';
  const r = d.response;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'missing field `response`';
  const resp = r as Record<string, unknown>;
  if (typeof resp.id !== 'string' || resp.id === '') return 'missing field `response.id`';
  if (typeof resp.response !== 'object' || resp.response === null) return 'missing field `response.response`';
  return undefined;
}

/**
 * Checks a sign-in assertion; returns the account it proves. Counters: a response whose counter
 * does not move past the stored one (when either is non-zero) is a cloned authenticator, refused
 * and logged (WebAuthn §6.1.1).
 */
export async function verifyPasskeyLogin(
  core: Core,
  data: { attempt_id: string; response: AuthenticationResponseJSON },
): Promise<PasskeyAccount> {
  const { rpId, origins } = enabled(core);
  const now = nowSeconds(core.clock);
  const taken = await core.secondFactors.takeChallenge(data.attempt_id, 'login', now);
  if (!taken.ok) throw new PasskeyRefused(CHALLENGE_REFUSALS[taken.reason]);
  const credential = await core.secondFactors.getPasskey(data.response.id);
  const unknown = new PasskeyRefused('Unknown passkey');
  if (credential === undefined) throw unknown;
  if (taken.record.username !== null && taken.record.username !== credential.username) throw unknown;
  const user = await core.users.get(credential.username);
  if (user === undefined || user.key_id !== credential.key_id) throw unknown;
  const key = await core.keys.getRoot(credential.key_id);
  if (key === undefined || !isValidKey(key, now)) throw unknown;

  let info: Awaited<ReturnType<WebAuthn['verifyAuthenticationResponse']>>['authenticationInfo'];
  try {
    const verified = await (await webauthn()).verifyAuthenticationResponse({
      response: data.response,
      expectedChallenge: taken.record.challenge,
      expectedOrigin: origins,
      expectedRPID: rpId,
      credential: {
        id: credential.credential_id,
        publicKey: new Uint8Array(Buffer.from(credential.public_key, 'base64url')) as Uint8Array<ArrayBuffer>,
        counter: credential.counter,
        transports: credential.transports as never,
      },
      requireUserVerification: true,
    });
    if (!verified.verified) throw new Error('signature not verified');
    info = verified.authenticationInfo;
  } catch (e) {
    const message = (e as Error).message;
    if (/counter value/i.test(message)) throw clonedAuthenticator(core, credential);
    throw new PasskeyRefused(`Passkey not accepted: ${message}`);
  }

  // The counter moves under the account lock: two sign-ins with one credential cannot both
  // pass with the same counter value.
  await core.accountLock.run(async () => {
    const current = await core.secondFactors.getPasskey(credential.credential_id);
    if (current === undefined) throw unknown;
    if ((info.newCounter > 0 || current.counter > 0) && info.newCounter <= current.counter) {
      throw clonedAuthenticator(core, current);
    }
    await core.store.batch(
      core.secondFactors.passkeyOps({
        ...current,
        counter: info.newCounter,
        backed_up: info.credentialBackedUp,
        device_type: info.credentialDeviceType,
        last_used_at: now,
      }),
    );
  });
  return { username: credential.username, keyId: credential.key_id, permissions: key.permissions };
}

function clonedAuthenticator(core: Core, credential: PasskeyRecord): PasskeyRefused {
  core.log.warn(
    { key: shortId(credential.key_id), credential: logSafe(credential.credential_id.slice(0, 12)) },
    'passkey counter went back: possible cloned authenticator; sign-in refused',
  );
  return new PasskeyRefused('Passkey refused: its signature counter went back (a cloned authenticator?)');
}
