import { getJson, putOp, type BatchOp, type Store } from '../storage/store.js';

/** `user:<username>` (wire §6.3): the account's password hash and its root key. */
export interface UserRecord {
  key_id: string;
  password_hash: string;
  created_at: number;
  updated_at: number;
}

export const userKey = (username: string): string => `user:${username}`;

export class UserStore {
  constructor(private readonly store: Store) {}

  get(username: string): Promise<UserRecord | undefined> {
    return getJson<UserRecord>(this.store, userKey(username));
  }

  putOp(username: string, record: UserRecord): BatchOp {
    return putOp(userKey(username), {
      key_id: record.key_id,
      password_hash: record.password_hash,
      created_at: record.created_at,
      updated_at: record.updated_at,
    });
  }

  async list(): Promise<Array<[string, UserRecord]>> {
    return (await this.store.scan('user:')).map(([k, v]) => [
      k.slice('user:'.length),
      JSON.parse(Buffer.from(v).toString('utf8')) as UserRecord,
    ]);
  }

  /** The usernames whose record points at root key `keyId` (a scan: users are few). */
  async usernamesOfKey(keyId: string): Promise<string[]> {
    return (await this.list()).filter(([, user]) => user.key_id === keyId).map(([username]) => username);
  }
}
