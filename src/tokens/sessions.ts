import { randomUUID } from 'node:crypto';
import { delOp, getJson, putOp, scanIndexIds, type BatchOp, type Store } from '../storage/store.js';
import {
  keySessionKey,
  keySessionsPrefix,
  sessionKey,
  type RevokeReason,
  type SessionRecord,
} from './session.js';
import { memoize } from '../util/memo.js';

// Every authenticated request peeks with the same few sids: reuse the store key strings.
const sessionName = memoize(sessionKey);

/** Sessions (token families, wire §4.7): opened at login and mint, revoked as a unit. */
export class SessionManager {
  constructor(private readonly store: Store) {}

  /** The ops that open a session; the caller writes them durably before returning tokens. */
  openOps(keyId: string, refreshExp: number, now: number): { sid: string; ops: BatchOp[] } {
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

  /** Deletes sessions whose every token has failed verification for good. */
  async sweep(now: number, leeway: number): Promise<number> {
    const ops: BatchOp[] = [];
    for (const [k, v] of await this.store.scan('session:')) {
      const sid = k.slice('session:'.length);
      let rec: SessionRecord;
      try {
        rec = JSON.parse(Buffer.from(v).toString('utf8')) as SessionRecord;
      } catch {
        continue;
      }
      if (rec.expires_at + leeway < now) {
        ops.push(delOp(k), delOp(keySessionKey(rec.key_id, sid)));
      }
    }
    if (ops.length > 0) await this.store.batch(ops);
    return ops.length / 2;
  }
}
