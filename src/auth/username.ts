import type { Core } from '../core.js';
import { userKey, type UserRecord, type UserStore } from '../providers/user-record.js';
import { delOp } from '../storage/store.js';
import { logSafe } from '../util/logger.js';

/** The longest canonical username, in Unicode code points. */
export const MAX_USERNAME_CODE_POINTS = 256;

export type CanonicalUsername = { ok: true; name: string } | { ok: false; reason: string };

/**
 * Refused general categories, first match wins. Cc includes NUL and every C0/C1 control (tab,
 * newline…); Cf the invisible ones (zero-width space and joiners, bidi embeddings, overrides and
 * isolates U+202A–202E / U+2066–2069, the BOM, soft hyphen…); Cn depends on the Unicode version
 * of the running Node.
 */
const REFUSED: ReadonlyArray<{ re: RegExp; what: string }> = [
  { re: /\p{Cc}/u, what: 'a control character' },
  { re: /\p{Cf}/u, what: 'an invisible formatting character' },
  { re: /\p{Cs}/u, what: 'an unpaired surrogate' },
  { re: /\p{Co}/u, what: 'a private-use character' },
  { re: /\p{Cn}/u, what: 'an unassigned code point' },
  { re: /\p{Zl}/u, what: 'a line separator' },
  { re: /\p{Zp}/u, what: 'a paragraph separator' },
];

const hex = (cp: number): string => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * The one spelling an account is stored under, modelled on RFC 8265 (PRECIS) UsernameCaseMapped:
 * (1) width and compatibility mapping with NFKC (full-width `ａｄｍｉｎ` → `admin`, no-break and
 * ideographic spaces → U+0020); (2) lower-case (RFC 8265 §3.3.2, `toLowerCase`); (3) NFC.
 * Then refused: an empty result; a code point in Cc, Cf, Cs, Co, Cn, Zl or Zp; a leading or
 * trailing space; more than 256 code points. Visually identical spellings (NFD/NFC `é`, `Admin`,
 * `ADMIN`, `ａｄｍｉｎ`) give one name; invisible tricks (`ad\u200Bmin`, `\u202Eadmin`) give a
 * reason, for the operator, naming the first offending code point.
 */
export function canonicalUsername(raw: string): CanonicalUsername {
  const name = raw.normalize('NFKC').toLowerCase().normalize('NFC');
  if (name.length === 0) return { ok: false, reason: 'username must not be empty' };
  const points = [...name];
  for (const ch of points) {
    const refused = REFUSED.find(({ re }) => re.test(ch));
    if (refused) return { ok: false, reason: `username contains ${refused.what} (${hex(ch.codePointAt(0) ?? 0)})` };
  }
  if (name.startsWith(' ') || name.endsWith(' ')) {
    return { ok: false, reason: 'username must not begin or end with a space' };
  }
  if (points.length > MAX_USERNAME_CODE_POINTS) {
    return { ok: false, reason: `username must be at most ${MAX_USERNAME_CODE_POINTS} characters long` };
  }
  return { ok: true, name };
}

/**
 * The account a username names, and the spelling it is stored under: the exact spelling first
 * (a canonical record, or a legacy one the start-up migration left because of a collision), then
 * the canonical spelling (`ADMIN` finds `user:admin`).
 */
export async function findUser(
  users: UserStore,
  raw: string,
  canonical: string,
): Promise<{ name: string; record: UserRecord } | undefined> {
  const exact = await users.get(raw);
  if (exact) return { name: raw, record: exact };
  if (canonical === raw) return undefined;
  const record = await users.get(canonical);
  return record ? { name: canonical, record } : undefined;
}

export interface UsernameMigration {
  /** Legacy spellings re-keyed to their canonical name: [from, to]. */
  migrated: Array<[string, string]>;
  /** Left in place: the canonical name already has a record. */
  collisions: string[];
  /** Left in place: the legacy name has no valid canonical form (it can no longer log in). */
  invalid: string[];
}

/**
 * Start-up migration: every `user:<name>` whose name is not canonical moves to
 * `user:<canonical>` (put new, delete old, one batch) when the canonical name is valid and free.
 * A collision or an invalid legacy name stays where it is, with a warning. Idempotent, and under
 * the account lock, so several instances sharing one store can run it at once.
 */
export async function migrateUsernames(core: Core): Promise<UsernameMigration> {
  return core.accountLock.run(async () => {
    const result: UsernameMigration = { migrated: [], collisions: [], invalid: [] };
    const users = await core.users.list();
    const taken = new Set(users.map(([name]) => name));
    for (const [name, record] of users) {
      const canonical = canonicalUsername(name);
      if (canonical.ok && canonical.name === name) continue;
      if (!canonical.ok) {
        result.invalid.push(name);
        core.log.warn(
          { user: logSafe(name), reason: canonical.reason },
          'legacy username is not valid; its record is left as is and can no longer log in (re-provision the account under a valid name)',
        );
        continue;
      }
      if (taken.has(canonical.name)) {
        result.collisions.push(name);
        core.log.warn(
          { user: logSafe(name), canonical: logSafe(canonical.name) },
          'legacy username collides with an existing account; both are left as they are and log in under their exact spelling',
        );
        continue;
      }
      await core.store.batch([core.users.putOp(canonical.name, record), delOp(userKey(name))]);
      taken.delete(name);
      taken.add(canonical.name);
      result.migrated.push([name, canonical.name]);
      core.log.info({ user: logSafe(name), canonical: logSafe(canonical.name) }, 'username normalised');
    }
    return result;
  });
}
