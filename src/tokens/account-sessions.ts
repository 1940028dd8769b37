/**
 * The account holder's own sessions (`GET /admin/sessions`, `DELETE /admin/sessions/:sid`,
 * `POST /admin/sessions/revoke-all`; additions the Rust service lacks, docs/compatibility.md).
 *
 * Scope: the calling key and every client key minted below it, transitively. For a root key that
 * is the whole account (its own logins and every app it approved); a client key sees and ends
 * only its own sessions and those of keys it minted, never the operator's: authority flows down
 * the chain, and an app's delegated key must not list the operator's addresses or sign them out.
 * A session outside the scope is "not found", exactly like one that does not exist, so the
 * routes are no oracle for other accounts' sids.
 *
 * Ending a session is the logout write (revoked_at, reason `logout`) through the same store path,
 * so the validate fast lane and other instances (change feed) refuse its tokens at once.
 */
import type { Core } from '../core.js';
import { AuthError } from '../errors.js';
import { isValidKey } from '../keys/key.js';
import type { BatchOp } from '../storage/store.js';
import { nowSeconds } from '../util/clock.js';
import type { SessionRecord } from './session.js';
import { sessionEnd } from './session-lifetime.js';

/** One row of `GET /admin/sessions`: never a token, never another account's session. */
export interface SessionRow {
  sid: string;
  /** The login's client name (a URL or a tool's name) or the client key's name; null when unknown. */
  client_name: string | null;
  created_at: number;
  /** The last successful refresh; null when never refreshed. */
  last_refresh_at: number | null;
  /** The client address the session was opened from; null when unknown. */
  address: string | null;
  /** True for the session of the token making this request. */
  current: boolean;
}

export interface SessionCaller {
  keyId: string;
  sid: string;
}

const MAX_CHAIN = 32;
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Live: not revoked, its newest refresh token not expired, within `jwt.session_max_age`. */
function isLive(core: Core, rec: SessionRecord, now: number): boolean {
  if (rec.revoked_at !== null) return false;
  if (rec.expires_at <= now) return false;
  const end = sessionEnd(core.config.jwt, rec.created_at);
  return end === undefined || now < end;
}

/** The calling key and its valid client keys below it (transitively), caller first. */
async function scopeKeys(core: Core, keyId: string, now: number): Promise<string[]> {
  const out = [keyId];
  const seen = new Set(out);
  for (let i = 0; i < out.length; i++) {
    for (const clientId of await core.keys.clientIdsOf(out[i] as string)) {
      if (seen.has(clientId)) continue;
      seen.add(clientId);
      const client = await core.keys.getClient(clientId);
      if (client && isValidKey(client, now)) out.push(clientId);
    }
  }
  return out;
}

/** Every live session in the caller's scope, with its record. */
async function liveSessions(core: Core, caller: SessionCaller, now: number): Promise<Array<[string, SessionRecord]>> {
  const out: Array<[string, SessionRecord]> = [];
  for (const keyId of await scopeKeys(core, caller.keyId, now)) {
    for (const sid of await core.sessions.sidsOfKey(keyId)) {
      const rec = await core.sessions.get(sid);
      // The index entry must agree with the record: a record names its own key.
      if (rec && rec.key_id === keyId && isLive(core, rec, now)) out.push([sid, rec]);
    }
  }
  return out;
}

/** One page of `GET /admin/sessions`. */
export interface SessionPage {
  sessions: SessionRow[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

/** Where a page starts: after the row with this activity time and sid (the listing's order). */
export interface SessionCursor {
  active: number;
  sid: string;
}

const activeOf = (r: SessionRow): number => r.last_refresh_at ?? r.created_at;

/** Most recently active first, then by sid: a total order, so a cursor names one place in it. */
const byActivity = (a: SessionRow, b: SessionRow): number =>
  activeOf(b) - activeOf(a) || (a.sid < b.sid ? -1 : a.sid > b.sid ? 1 : 0);

/** The cursor after `row`: opaque to clients (base64url of `<active>.<sid>`). */
export function encodeSessionCursor(row: SessionRow): string {
  return Buffer.from(`${activeOf(row)}.${row.sid}`, 'utf8').toString('base64url');
}

/** A cursor this service issued, or undefined for anything else. */
export function decodeSessionCursor(cursor: string): SessionCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  const m = /^(\d{1,15})\.([^\s]{1,128})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m ? { active: Number(m[1]), sid: m[2] as string } : undefined;
}

/**
 * `GET /admin/sessions`: the live sessions in scope, the most recently active first, `limit` at
 * a time from `after` on. A session refreshed between two pages moves to the top: it may then be
 * missed by a later page, never listed twice on one.
 */
export async function listAccountSessions(
  core: Core,
  caller: SessionCaller,
  page: { limit: number; after?: SessionCursor | undefined },
): Promise<SessionPage> {
  const now = nowSeconds(core.clock);
  let sessions: Array<[string, SessionRecord]>;
  try {
    sessions = await liveSessions(core, caller, now);
  } catch (e) {
    throw new AuthError('internal', `Failed to list sessions: Storage error: ${messageOf(e)}`, { cause: e });
  }
  const { after } = page;
  const rows = sessions
    .map(
      ([sid, rec]): SessionRow => ({
        sid,
        client_name: rec.client_name ?? null,
        created_at: rec.created_at,
        last_refresh_at: rec.last_refresh_at ?? null,
        address: rec.address ?? null,
        current: sid === caller.sid,
      }),
    )
    .filter((r) => after === undefined || activeOf(r) < after.active || (activeOf(r) === after.active && r.sid > after.sid))
    .sort(byActivity);
  const shown = rows.slice(0, page.limit);
  const last = shown[shown.length - 1];
  return { sessions: shown, next_cursor: rows.length > page.limit && last ? encodeSessionCursor(last) : null };
}

/** Whether key `keyId` is the caller's key or a client key below it (walking up its chain). */
async function inScope(core: Core, callerKeyId: string, keyId: string): Promise<boolean> {
  let id = keyId;
  for (let depth = 0; depth <= MAX_CHAIN; depth++) {
    if (id === callerKeyId) return true;
    const key = await core.keys.get(id);
    if (key?.key_type !== 'Client' || key.root_key_id === null) return false;
    id = key.root_key_id;
  }
  return false;
}

export const SESSION_NOT_FOUND = 'Session not found';

/**
 * `DELETE /admin/sessions/:sid`: ends one session of the caller's scope. 404 `Session not found`
 * for an unknown sid and for a session outside the scope alike; an in-scope session that has
 * already ended is a 200 as well (idempotent, like `/auth/logout`).
 */
export async function endAccountSession(core: Core, caller: SessionCaller, sid: string): Promise<{ sid: string; ended: true }> {
  const storage = (e: unknown) =>
    new AuthError('internal', `Failed to end session: Storage error: ${messageOf(e)}`, { cause: e });
  let found: SessionRecord | undefined;
  try {
    found = await core.sessions.get(sid);
    if (found && !(await inScope(core, caller.keyId, found.key_id))) found = undefined;
  } catch (e) {
    throw storage(e);
  }
  if (!found) throw new AuthError('not_found', SESSION_NOT_FOUND);
  try {
    // The session's own section, as logout: it excludes that session's refresh, nothing else.
    await core.sessionLocks.run(sid, async () => {
      const session = await core.sessions.get(sid);
      if (!session || session.revoked_at !== null) return;
      await core.store.batch([core.sessions.revokeOp(sid, session, 'logout', nowSeconds(core.clock))]);
      core.metrics.sessionsRevoked('logout');
    });
  } catch (e) {
    throw storage(e);
  }
  return { sid, ended: true };
}

/**
 * `POST /admin/sessions/revoke-all` ("sign out everywhere"): ends every live session of the
 * caller's scope, or every one but the caller's own with `keepCurrent`, in one atomic batch
 * under the exclusive session lock (no refresh of any of them can slip in between). Keys are
 * untouched: a fresh sign-in works, and client keys stay listed (without sessions their apps
 * must ask again). Returns how many sessions it ended.
 */
export async function endAllAccountSessions(core: Core, caller: SessionCaller, keepCurrent: boolean): Promise<number> {
  try {
    return await core.sessionLock.run(async () => {
      const now = nowSeconds(core.clock);
      const ops: BatchOp[] = [];
      for (const [sid, rec] of await liveSessions(core, caller, now)) {
        if (keepCurrent && sid === caller.sid) continue;
        ops.push(core.sessions.revokeOp(sid, rec, 'logout', now));
      }
      if (ops.length > 0) {
        await core.store.batch(ops);
        core.metrics.sessionsRevoked('logout', ops.length);
      }
      return ops.length;
    });
  } catch (e) {
    throw new AuthError('internal', `Failed to end sessions: Storage error: ${messageOf(e)}`, { cause: e });
  }
}
