import { randomUUID } from 'node:crypto';
import { delOp, getJson, putOp, scanIndexIds, type BatchOp, type SectionLock, type Store } from '../storage/store.js';
import {
  keySessionKey,
  keySessionsPrefix,
  SESSION_LABEL_MAX,
  sessionKey,
  type RevokeReason,
  type SessionOrigin,
  type SessionRecord,
} from './session.js';
import { memoize } from '../util/memo.js';

// Every authenticated request peeks with the same few sids: reuse the store key strings.
const sessionName = memoize(sessionKey);

/**
 * The most ops one sweep batch writes: the sweeps stream the records and delete as they go, so
 * their memory stays flat whatever the number of sessions or markers.
 */
export const SWEEP_BATCH_OPS = 500;

const NO_LOCK: SectionLock = { run: (fn) => fn() };

function parseSession(bytes: Uint8Array | undefined): SessionRecord | undefined {
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as SessionRecord;
  } catch {
    return undefined;
  }
}

/** A session label as stored: undefined when empty, cut to SESSION_LABEL_MAX code points. */
function label(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const chars = [...value];
  return chars.length > SESSION_LABEL_MAX ? chars.slice(0, SESSION_LABEL_MAX).join('') : value;
}

/** Sessions (token families, wire §4.7): opened at login and mint, revoked as a unit. */
export class SessionManager {
  /** Ops per batch of this sweep and of the consumed-marker sweep (sweepConsumed). */
  readonly sweepBatchOps = SWEEP_BATCH_OPS;
  constructor(private readonly store: Store) {}

  /**
   * The ops that open a session; the caller writes them durably before returning tokens.
   * `origin` (optional) is kept for the account holder's session list.
   */
  openOps(keyId: string, refreshExp: number, now: number, origin: SessionOrigin = {}): { sid: string; ops: BatchOp[] } {
    const sid = randomUUID();
    const record: SessionRecord = {
      key_id: keyId,
      created_at: now,
      updated_at: now,
      expires_at: refreshExp,
      revoked_at: null,
      revoked_reason: null,
      generation: 0,
    };
    const clientName = label(origin.clientName);
    const address = label(origin.address);
    if (clientName !== undefined) record.client_name = clientName;
    if (address !== undefined) record.address = address;
    return {
      sid,
      ops: [putOp(sessionKey(sid), record), { type: 'put', key: keySessionKey(keyId, sid), value: new Uint8Array() }],
    };
  }

  /** The session if it is cached (no I/O), else undefined: then ask get(). */
  peek(sid: string): SessionRecord | undefined {
    return this.store.peekJson?.<SessionRecord>(sessionName(sid));
  }

  get(sid: string): Promise<SessionRecord | undefined> {
    return getJson<SessionRecord>(this.store, sessionKey(sid));
  }

  /** Session ids of a key (wire §6.1 index rule). */
  sidsOfKey(keyId: string): Promise<string[]> {
    return scanIndexIds(this.store, keySessionsPrefix(keyId));
  }

  revokeOp(sid: string, record: SessionRecord, reason: RevokeReason, now: number): BatchOp {
    return putOp(sessionKey(sid), { ...record, updated_at: now, revoked_at: now, revoked_reason: reason });
  }

  /** Ops revoking every live session of a key. */
  async revokeAllOps(keyId: string, reason: RevokeReason, now: number): Promise<BatchOp[]> {
    const ops: BatchOp[] = [];
    for (const sid of await this.sidsOfKey(keyId)) {
      const rec = await this.get(sid);
      if (rec && rec.revoked_at === null) ops.push(this.revokeOp(sid, rec, reason, now));
    }
    return ops;
  }

  /**
   * Deletes sessions whose every token has failed verification for good (expires_at + L < now),
   * with their index entries; an unreadable record stays. Streams the sessions and deletes in
   * batches of at most SWEEP_BATCH_OPS ops. Each batch runs in `lock` (the session lock's
   * exclusive side in the service), where it reads its sessions again before deleting them, so
   * a refresh that moved expires_at forward meanwhile keeps its session; the lock is never held
   * across the whole sweep.
   */
  async sweep(now: number, leeway: number, lock: SectionLock = NO_LOCK): Promise<number> {
    const expired = (rec: SessionRecord | undefined): rec is SessionRecord => rec !== undefined && rec.expires_at + leeway < now;
    let deleted = 0;
    let due: string[] = [];
    const flush = async (sids: string[]): Promise<void> => {
      deleted += await lock.run(async () => {
        const ops: BatchOp[] = [];
        for (const sid of sids) {
          const rec = parseSession(await this.store.get(sessionKey(sid)));
          if (expired(rec)) ops.push(delOp(sessionKey(sid)), delOp(keySessionKey(rec.key_id, sid)));
        }
        if (ops.length > 0) await this.store.batch(ops);
        return ops.length / 2;
      });
    };
    for await (const [k, v] of this.store.iterate('session:')) {
      if (!expired(parseSession(v))) continue;
      due.push(k.slice('session:'.length));
      if (due.length * 2 >= SWEEP_BATCH_OPS) {
        await flush(due);
        due = [];
      }
    }
    if (due.length > 0) await flush(due);
    return deleted;
  }
}
