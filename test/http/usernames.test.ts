/**
 * Usernames are normalised (src/auth/username.ts; issue 10 item 5): visually identical spellings
 * are one account, invisible tricks are refused, legacy records keep working. Through
 * `POST /auth/token`, `POST /admin/keys`, provision() (set-admin) and startup provisioning.
 */
import { describe, expect, it, vi } from 'vitest';
import { AdminEnvError, provisionFromEnv } from '../../src/auth/admin-env.js';
import { provision, ProvisionError } from '../../src/auth/provision.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { addUser, decodeJwt, expectErr, expectPair, freshPeer, loginBody } from '../helpers/http.js';
import { ADMIN, testServices, type TestService } from '../helpers/service.js';
import { call, dataOf } from './admin-fixtures.js';

const INVALID_CREDENTIALS = 'Authentication failed: Authentication failed: Invalid username or password';

const services = testServices();

/**
 * Logs in from a fresh address; returns the response. `public_key` (which only feeds the
 * rate-limit bucket, wire §3.2) is the username when it is printable ASCII, as clients send it;
 * otherwise `admin`, since sanitising a full-width one leaves nothing (a 400 before any lookup).
 */
function login(t: TestService, username: string, password: string): Promise<Response> {
  return t.post(
    '/auth/token',
    loginBody({
      public_key: /^[\x20-\x7e]+$/.test(username) ? username : 'admin',
      provider_data: { username, password },
    }),
    {},
    freshPeer(),
  );
}

/** Logs in and returns the token's subject (the account's root key id). */
async function subOf(t: TestService, username: string, password: string): Promise<string> {
  const { access } = await expectPair(await login(t, username, password));
  return decodeJwt(access).payload.sub as string;
}

const userKeys = async (t: TestService): Promise<string[]> => (await t.store.scan('user:')).map(([k]) => k);

const adminKeys = async (t: TestService, access: string, body: unknown): Promise<Response> =>
  call(t, 'POST', '/admin/keys', { token: access, body });

/** Usernames that must never become (or log into) an account, with the reason provisioning gives. */
const SPOOFS: Array<[string, string, string]> = [
  ['a zero-width space', 'ad\u200Bmin', 'username contains an invisible formatting character (U+200B)'],
  ['a trailing NUL', 'admin\u0000', 'username contains a control character (U+0000)'],
  ['a right-to-left override', '\u202Eadmin', 'username contains an invisible formatting character (U+202E)'],
  ['a BEL control', 'ad\u0007min', 'username contains a control character (U+0007)'],
];

describe('Security: username spoofing', () => {
  it('NFD and NFC spellings of "é" are one account: provisioned in one, logged into with the other', async () => {
    const t = await services({}, { admin: false });
    const nfd = 'jos\u0065\u0301';
    const nfc = 'jos\u00e9';
    const { keyId } = await provision(t.svc.core, nfd, 'a long passphrase', { wait: true });
    expect(await userKeys(t)).toEqual([`user:${nfc}`]);
    expect(await subOf(t, nfc, 'a long passphrase')).toBe(keyId);
    expect(await subOf(t, nfd, 'a long passphrase')).toBe(keyId);
    expect(await subOf(t, 'JOS\u0045\u0301', 'a long passphrase')).toBe(keyId);
  });

  it('"ADMIN" and full-width "ａｄｍｉｎ" log into "admin"', async () => {
    const t = await services();
    const adminId = (await t.svc.core.users.get('admin'))?.key_id;
    expect(adminId).toBeDefined();
    expect(await subOf(t, 'ADMIN', ADMIN.password)).toBe(adminId);
    expect(await subOf(t, 'ａｄｍｉｎ', ADMIN.password)).toBe(adminId);
    expect(await subOf(t, 'Ａｄｍｉｎ', ADMIN.password)).toBe(adminId);
    expect(await userKeys(t)).toEqual(['user:admin']);
  });

  it.each(SPOOFS)(
    'a username with %s is refused by set-admin, startup provisioning and POST /admin/keys, with the reason',
    async (_what, username, reason) => {
      const t = await services();
      const { access } = await t.login({ peer: freshPeer() });
      const before = await t.store.scan('');

      // set-admin (and every other caller of provision()).
      const refused = await provision(t.svc.core, username, 'a long passphrase', { wait: true }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ProvisionError);
      expect((refused as Error).message).toBe(reason);

      // Startup: MERO_AUTH_ADMIN_USER on a node with no account yet (exit 2 in the CLI).
      const fresh = await services({}, { admin: false });
      const env = { MERO_AUTH_ADMIN_USER: username, MERO_AUTH_ADMIN_PASSWORD: 'a long passphrase' };
      const fromEnv = await provisionFromEnv(fresh.svc.core, env).catch((e: unknown) => e);
      expect(fromEnv).toBeInstanceOf(AdminEnvError);
      expect((fromEnv as Error).message).toBe(reason);
      expect(await userKeys(fresh)).toEqual([]);

      // POST /admin/keys: bad input, 400 with the reason, before any hashing.
      const hash = vi.spyOn(t.svc.core.hasher, 'hash');
      const res = await adminKeys(t, access, {
        public_key: 'pk',
        auth_method: 'user_password',
        provider_data: { username, password: 'a long passphrase' },
      });
      await expectErr(res, 400, reason);
      expect(hash).not.toHaveBeenCalled();
      hash.mockRestore();

      const after = (await t.store.scan('')).filter(([k]) => !k.startsWith('session:') && !k.startsWith('idx:'));
      expect(after).toEqual(before.filter(([k]) => !k.startsWith('session:') && !k.startsWith('idx:')));
    },
  );

  it.each(SPOOFS)(
    'a login as a username with %s never succeeds, even with a record under it, and answers the generic 401',
    async (_what, username) => {
      const t = await services();
      // As if a record had been written under that exact name before normalisation existed.
      await addUser(t, username, 'a long passphrase');
      const dummy = vi.spyOn(t.svc.core.hasher, 'verifyDummy');
      const res = await login(t, username, 'a long passphrase');
      await expectErr(res, 401, INVALID_CREDENTIALS);
      // The same argon2 work as an unknown user: the invalid name is never looked up.
      expect(dummy).toHaveBeenCalledTimes(1);
      dummy.mockRestore();
      await expectErr(await login(t, 'nobody-at-all', 'a long passphrase'), 401, INVALID_CREDENTIALS);
    },
  );

  it('POST /admin/keys creating "Admin" when "admin" exists updates the one account (no second account)', async () => {
    const t = await services();
    const adminId = (await t.svc.core.users.get('admin'))?.key_id;
    const { access } = await t.login({ peer: freshPeer() });
    const res = await adminKeys(t, access, {
      public_key: 'Admin',
      auth_method: 'user_password',
      provider_data: { username: 'Admin', password: ADMIN.password },
    });
    expect(await dataOf(res)).toEqual({ status: true, message: 'Key was updated' });
    expect(await userKeys(t)).toEqual(['user:admin']);
    expect((await t.svc.core.keys.listRoot()).map(([id]) => id)).toEqual([adminId]);
    expect(await subOf(t, 'Admin', ADMIN.password)).toBe(adminId);
  });

  it('POST /admin/keys creating a new account stores it under the canonical name', async () => {
    const t = await services();
    const { access } = await t.login({ peer: freshPeer() });
    const res = await adminKeys(t, access, {
      public_key: 'bob-pk',
      auth_method: 'user_password',
      provider_data: { username: 'Ｂｏｂ', password: 'bob password 1' },
    });
    expect(await dataOf(res)).toEqual({ status: true, message: 'Key was created' });
    expect(await userKeys(t)).toEqual(['user:admin', 'user:bob']);
    const bobId = (await t.svc.core.users.get('bob'))?.key_id;
    expect(await subOf(t, 'BOB', 'bob password 1')).toBe(bobId);
  });

  it('a legacy non-canonical record ("Admin") is migrated at start and logs in as "Admin" and as "admin"', async () => {
    const store = new MemoryStore();
    const before = await services({}, { admin: false, store });
    const legacyId = await addUser(before, 'Admin', 'a long passphrase');
    const legacy = await before.svc.core.users.get('Admin');

    const t = await services({}, { admin: false, store });
    expect(await userKeys(t)).toEqual(['user:admin']);
    expect(await t.svc.core.users.get('admin')).toEqual(legacy);
    expect(await subOf(t, 'Admin', 'a long passphrase')).toBe(legacyId);
    expect(await subOf(t, 'admin', 'a long passphrase')).toBe(legacyId);

    // A second start changes nothing.
    const snapshot = await store.scan('user:');
    await services({}, { admin: false, store });
    expect(await store.scan('user:')).toEqual(snapshot);
  });

  it('a collision pair ("admin" and legacy "Admin") both keep working under their exact spellings', async () => {
    const store = new MemoryStore();
    const before = await services({}, { store });
    const adminId = (await before.svc.core.users.get('admin'))?.key_id;
    const legacyId = await addUser(before, 'Admin', 'the other passphrase');

    const t = await services({}, { admin: false, store });
    expect(await userKeys(t)).toEqual(['user:Admin', 'user:admin']);
    expect(await subOf(t, 'admin', ADMIN.password)).toBe(adminId);
    expect(await subOf(t, 'Admin', 'the other passphrase')).toBe(legacyId);
    // Any other spelling is the canonical account.
    expect(await subOf(t, 'ADMIN', ADMIN.password)).toBe(adminId);
    await expectErr(await login(t, 'ADMIN', 'the other passphrase'), 401, INVALID_CREDENTIALS);
  });
});
