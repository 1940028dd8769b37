import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { passkeyRecord } from '../../test/helpers/second-factor.js';
import { makeTestService, type TestService } from '../../test/helpers/service.js';
import type { Core } from '../core.js';
import { newRootKey, type KeyRecord } from '../keys/key.js';
import { putOp } from '../storage/store.js';
import { nowSeconds } from '../util/clock.js';
import { accountExists, provision, ProvisionError } from './provision.js';

const PHC_ARGON2ID = /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const HEX64 = /^[0-9a-f]{64}$/;

let t: TestService | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function setup(): Promise<{ t: TestService; core: Core }> {
  t = await makeTestService({}, { admin: false });
  return { t, core: t.svc.core };
}

/** Every entry of the store, values as hex, to prove "no write" byte for byte. */
async function snapshot(core: Core): Promise<Array<[string, string]>> {
  return (await core.store.scan('')).map(([k, v]) => [k, Buffer.from(v).toString('hex')]);
}

async function openSession(core: Core, keyId: string): Promise<string> {
  const { sid, ops } = core.sessions.openOps(keyId, nowSeconds(core.clock) + 1000, nowSeconds(core.clock));
  await core.store.batch(ops);
  return sid;
}

/** A client key minted by `rootId`, written by hand as client-key minting would (wire §6.1). */
async function addClientKey(core: Core, rootId: string): Promise<string> {
  const id = randomUUID();
  const key: KeyRecord = {
    key_type: 'Client',
    public_key: null,
    auth_method: null,
    root_key_id: rootId,
    name: 'Context Client - ctx-1 (ident-1)',
    permissions: ['context:execute'],
    created_at: nowSeconds(core.clock),
    revoked_at: null,
    expires_at: null,
  };
  await core.store.batch([
    core.keys.putOp(id, key),
    { type: 'put', key: `idx:root_clients:${rootId}:${id}`, value: new Uint8Array() },
  ]);
  return id;
}

async function rootKeys(core: Core): Promise<Array<[string, KeyRecord]>> {
  return core.keys.listRoot();
}

async function expectProvisionError(p: Promise<unknown>, message: string): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ProvisionError);
  expect((e as Error).name).toBe('ProvisionError');
  expect((e as Error).message).toBe(message);
}

describe('provision — a new account', () => {
  it('creates exactly one root key holding admin, under the returned 64-hex id, and the user record', async () => {
    const { core, t } = await setup();
    const now = nowSeconds(t.clock);
    const res = await provision(core, 'admin', 'correct horse battery');
    expect(res.outcome).toBe('created');
    expect(res.keyId).toMatch(HEX64);

    const roots = await rootKeys(core);
    expect(roots).toHaveLength(1);
    expect(roots[0]).toEqual([
      res.keyId,
      {
        key_type: 'Root',
        public_key: 'admin',
        auth_method: 'user_password',
        root_key_id: null,
        name: null,
        permissions: ['admin'],
        created_at: now,
        revoked_at: null,
        expires_at: null,
      },
    ]);

    const user = await core.users.get('admin');
    expect(user).toEqual({
      key_id: res.keyId,
      password_hash: expect.stringMatching(PHC_ARGON2ID),
      created_at: now,
      updated_at: now,
    });
    expect(await core.hasher.verify(user?.password_hash ?? '', 'correct horse battery')).toBe(true);
    expect(await core.hasher.verify(user?.password_hash ?? '', 'wrong password!')).toBe(false);
  });

  it('writes the key record and user record in their documented JSON shape', async () => {
    const { core } = await setup();
    const { keyId } = await provision(core, 'admin', 'correct horse battery');
    const raw = await core.store.get(`root_key:${keyId}`);
    const now = nowSeconds(core.clock);
    expect(Buffer.from(raw ?? []).toString('utf8')).toBe(
      '{"key_type":"Root","public_key":"admin","auth_method":"user_password","root_key_id":null,"name":null,' +
        `"permissions":["admin"],"created_at":${now},"revoked_at":null,"expires_at":null}`,
    );
    const userRaw = Buffer.from((await core.store.get('user:admin')) ?? []).toString('utf8');
    expect(Object.keys(JSON.parse(userRaw) as object)).toEqual(['key_id', 'password_hash', 'created_at', 'updated_at']);
  });

  it('honours publicKey, authMethod and nodeUrl', async () => {
    const { core } = await setup();
    const { keyId } = await provision(core, 'alice', 'correct horse battery', {
      publicKey: 'alice-pk',
      authMethod: 'near_wallet',
      nodeUrl: 'https://node1.example.com',
    });
    expect(await core.keys.getRoot(keyId)).toMatchObject({
      public_key: 'alice-pk',
      auth_method: 'near_wallet',
      node_url: 'https://node1.example.com',
    });
  });

  it('a new account is stored under the canonical username, which is also its public_key', async () => {
    const { core } = await setup();
    const a = await provision(core, 'Ａｄｍｉｎ', 'correct horse battery');
    expect((await core.store.scan('user:')).map(([k]) => k)).toEqual(['user:admin']);
    expect((await core.keys.getRoot(a.keyId))?.public_key).toBe('admin');
  });

  it('every spelling of one canonical username is the same account', async () => {
    const { core } = await setup();
    const a = await provision(core, 'Admin', 'correct horse battery');
    expect(await provision(core, 'ADMIN', 'correct horse battery')).toEqual({ keyId: a.keyId, outcome: 'unchanged' });
    expect((await provision(core, 'admin', 'a brand new password')).keyId).toBe(a.keyId);
    expect((await core.store.scan('user:')).map(([k]) => k)).toEqual(['user:admin']);
  });

  it('a legacy record under the exact spelling (a migration collision) is updated where it is', async () => {
    const { core } = await setup();
    const canonical = await provision(core, 'admin', 'correct horse battery');
    const legacyId = 'a'.repeat(64);
    const now = nowSeconds(core.clock);
    await core.store.batch([
      core.keys.putOp(legacyId, newRootKey({ publicKey: 'Admin', authMethod: 'user_password', permissions: ['admin'], now })),
      core.users.putOp('Admin', { ...(await core.users.get('admin'))!, key_id: legacyId }),
    ]);
    expect(await provision(core, 'Admin', 'correct horse battery')).toEqual({ keyId: legacyId, outcome: 'unchanged' });
    expect((await provision(core, 'Admin', 'a brand new password')).keyId).toBe(legacyId);
    expect((await core.users.get('admin'))?.key_id).toBe(canonical.keyId);
    expect((await provision(core, 'ADMIN', 'correct horse battery')).outcome).toBe('unchanged');
  });
});

describe('provision — idempotence', () => {
  it('identical credentials again → same id, outcome unchanged, and not a byte written', async () => {
    const { core, t } = await setup();
    const first = await provision(core, 'admin', 'correct horse battery');
    const before = await snapshot(core);
    t.clock.advanceSeconds(3600);
    const again = await provision(core, 'admin', 'correct horse battery');
    expect(again).toEqual({ keyId: first.keyId, outcome: 'unchanged' });
    expect(await snapshot(core)).toEqual(before);
    expect(await rootKeys(core)).toHaveLength(1);
  });

  it('same password, changed key fields → same id, fields updated, sessions untouched', async () => {
    const { core } = await setup();
    const { keyId } = await provision(core, 'admin', 'correct horse battery');
    const sid = await openSession(core, keyId);
    const userBefore = await core.users.get('admin');
    const res = await provision(core, 'admin', 'correct horse battery', { nodeUrl: 'https://node1.example.com' });
    expect(res).toEqual({ keyId, outcome: 'updated' });
    expect((await core.keys.getRoot(keyId))?.node_url).toBe('https://node1.example.com');
    expect(await core.users.get('admin')).toEqual(userBefore);
    expect((await core.sessions.get(sid))?.revoked_at).toBeNull();
  });
});

describe('provision — same user, new password', () => {
  it('keeps the key id, stores the new hash, revokes the account sessions and the client keys it minted', async () => {
    const { core, t } = await setup();
    const created = nowSeconds(t.clock);
    const { keyId } = await provision(core, 'admin', 'correct horse battery');
    const rootSid1 = await openSession(core, keyId);
    const rootSid2 = await openSession(core, keyId);
    const clientId = await addClientKey(core, keyId);
    const clientSid = await openSession(core, clientId);
    // An already-ended session keeps its own reason.
    const loggedOut = await openSession(core, keyId);
    const rec = await core.sessions.get(loggedOut);
    if (!rec) throw new Error('session missing');
    await core.store.batch([core.sessions.revokeOp(loggedOut, rec, 'logout', created)]);

    t.clock.advanceSeconds(100);
    const now = nowSeconds(t.clock);
    const res = await provision(core, 'admin', 'a brand new password');
    expect(res).toEqual({ keyId, outcome: 'password_changed' });

    expect(await rootKeys(core)).toHaveLength(1);
    expect(await core.keys.getRoot(keyId)).toMatchObject({ revoked_at: null, permissions: ['admin'], created_at: created });

    const user = await core.users.get('admin');
    expect(user).toMatchObject({ key_id: keyId, created_at: created, updated_at: now });
    expect(await core.hasher.verify(user?.password_hash ?? '', 'correct horse battery')).toBe(false);
    expect(await core.hasher.verify(user?.password_hash ?? '', 'a brand new password')).toBe(true);

    for (const sid of [rootSid1, rootSid2, clientSid]) {
      expect(await core.sessions.get(sid)).toMatchObject({ revoked_at: now, revoked_reason: 'password_change', updated_at: now });
    }
    expect(await core.sessions.get(loggedOut)).toMatchObject({ revoked_at: created, revoked_reason: 'logout' });
    expect((await core.keys.getClient(clientId))?.revoked_at).toBe(now);
  });

  it('the new password is then idempotent, the old one is a change back', async () => {
    const { core } = await setup();
    const { keyId } = await provision(core, 'admin', 'correct horse battery');
    await provision(core, 'admin', 'a brand new password');
    expect(await provision(core, 'admin', 'a brand new password')).toEqual({ keyId, outcome: 'unchanged' });
    expect(await provision(core, 'admin', 'correct horse battery')).toEqual({ keyId, outcome: 'password_changed' });
  });

  it('restores admin on a root key that lost it', async () => {
    const { core } = await setup();
    const { keyId } = await provision(core, 'admin', 'correct horse battery');
    const key = await core.keys.getRoot(keyId);
    if (!key) throw new Error('key missing');
    await core.store.batch([core.keys.putOp(keyId, { ...key, permissions: ['keys:list'] })]);
    await provision(core, 'admin', 'another password!');
    expect((await core.keys.getRoot(keyId))?.permissions).toEqual(['keys:list', 'admin']);
  });
});

describe('provision — independent usernames', () => {
  it('two usernames → two admin keys; changing one leaves the other alone', async () => {
    const { core } = await setup();
    const a = await provision(core, 'alice', 'correct horse battery');
    const b = await provision(core, 'bob', 'correct horse battery');
    expect(a.keyId).not.toBe(b.keyId);
    const roots = await rootKeys(core);
    expect(roots.map(([id]) => id).sort()).toEqual([a.keyId, b.keyId].sort());
    for (const [, key] of roots) expect(key.permissions).toEqual(['admin']);

    const bobSid = await openSession(core, b.keyId);
    await provision(core, 'alice', 'alice has a new one');
    expect((await core.sessions.get(bobSid))?.revoked_at).toBeNull();
  });
});

describe('provision — validation (nothing stored)', () => {
  it('an empty username', async () => {
    const { core } = await setup();
    const before = await snapshot(core);
    await expectProvisionError(provision(core, '', 'correct horse battery'), 'admin username must not be empty');
    expect(await snapshot(core)).toEqual(before);
  });

  it('the username is checked before the password', async () => {
    const { core } = await setup();
    await expectProvisionError(provision(core, '', 'x'), 'admin username must not be empty');
    await expectProvisionError(
      provision(core, 'ad\u200Bmin', 'x'),
      'username contains an invisible formatting character (U+200B)',
    );
  });

  it.each([
    ['ad\u200Bmin', 'username contains an invisible formatting character (U+200B)'],
    ['admin\u0000', 'username contains a control character (U+0000)'],
    ['\u202Eadmin', 'username contains an invisible formatting character (U+202E)'],
    ['ad\u0007min', 'username contains a control character (U+0007)'],
    [' admin', 'username must not begin or end with a space'],
  ])('an invalid username %j: refused with the reason', async (username, reason) => {
    const { core } = await setup();
    const before = await snapshot(core);
    await expectProvisionError(provision(core, username, 'correct horse battery'), reason);
    expect(await snapshot(core)).toEqual(before);
  });

  it('a password shorter than min_password_length code points', async () => {
    const { core } = await setup();
    const before = await snapshot(core);
    await expectProvisionError(provision(core, 'admin', '1234567'), 'Password must be at least 8 characters long');
    // Four astral characters are 8 UTF-16 units but 4 code points.
    await expectProvisionError(provision(core, 'admin', '😀😀😀😀'), 'Password must be at least 8 characters long');
    await expectProvisionError(provision(core, 'admin', ''), 'Password must be at least 8 characters long');
    expect(await snapshot(core)).toEqual(before);
    expect((await provision(core, 'admin', '12345678')).outcome).toBe('created');
  });

  it('a password longer than max_password_length code points', async () => {
    const { core } = await setup();
    const before = await snapshot(core);
    await expectProvisionError(provision(core, 'admin', 'x'.repeat(129)), 'Password must be at most 128 characters long');
    await expectProvisionError(provision(core, 'admin', '😀'.repeat(129)), 'Password must be at most 128 characters long');
    expect(await snapshot(core)).toEqual(before);
    expect((await provision(core, 'admin', '😀'.repeat(128))).outcome).toBe('created');
  });

  it('the limits come from the configuration', async () => {
    t = await makeTestService({ user_password: { min_password_length: 12, max_password_length: 16 } }, { admin: false });
    const core = t.svc.core;
    await expectProvisionError(provision(core, 'admin', 'x'.repeat(11)), 'Password must be at least 12 characters long');
    await expectProvisionError(provision(core, 'admin', 'x'.repeat(17)), 'Password must be at most 16 characters long');
  });

  it('a bad new password for an existing user changes nothing', async () => {
    const { core } = await setup();
    const { keyId } = await provision(core, 'admin', 'correct horse battery');
    const sid = await openSession(core, keyId);
    const before = await snapshot(core);
    await expectProvisionError(provision(core, 'admin', 'short'), 'Password must be at least 8 characters long');
    expect(await snapshot(core)).toEqual(before);
    expect((await core.sessions.get(sid))?.revoked_at).toBeNull();
  });
});

describe('provision — the account root key is revoked, expired or missing', () => {
  it('a revoked root key gets a new id; the old key stays revoked and its leftovers are ended', async () => {
    const { core, t } = await setup();
    const old = await provision(core, 'admin', 'correct horse battery');
    const oldKey = await core.keys.getRoot(old.keyId);
    if (!oldKey) throw new Error('key missing');
    const revokedAt = nowSeconds(t.clock);
    // Revoked by hand, without its sessions: provisioning must end what is left live.
    await core.store.batch([core.keys.putOp(old.keyId, { ...oldKey, revoked_at: revokedAt })]);
    const oldSid = await openSession(core, old.keyId);
    const clientId = await addClientKey(core, old.keyId);
    const clientSid = await openSession(core, clientId);
    expect(await accountExists(core)).toBe(false);

    t.clock.advanceSeconds(50);
    const now = nowSeconds(t.clock);
    const res = await provision(core, 'admin', 'correct horse battery');
    expect(res.outcome).toBe('replaced');
    expect(res.keyId).toMatch(HEX64);
    expect(res.keyId).not.toBe(old.keyId);

    expect(await core.keys.getRoot(old.keyId)).toEqual({ ...oldKey, revoked_at: revokedAt });
    expect(await core.keys.getRoot(res.keyId)).toMatchObject({ permissions: ['admin'], revoked_at: null, created_at: now });
    expect((await core.users.get('admin'))?.key_id).toBe(res.keyId);
    expect(await core.sessions.get(oldSid)).toMatchObject({ revoked_at: now, revoked_reason: 'password_change' });
    expect(await core.sessions.get(clientSid)).toMatchObject({ revoked_at: now, revoked_reason: 'password_change' });
    expect((await core.keys.getClient(clientId))?.revoked_at).toBe(now);
    expect(await accountExists(core)).toBe(true);

    // And the new key is now the stable one.
    expect(await provision(core, 'admin', 'correct horse battery')).toEqual({ keyId: res.keyId, outcome: 'unchanged' });
  });

  it("Security: a replaced account starts without the old key's passkeys, TOTP seed or policy (records deleted)", async () => {
    const { core, t } = await setup();
    const old = await provision(core, 'admin', 'correct horse battery');
    const now = nowSeconds(t.clock);
    await core.store.batch([
      ...core.secondFactors.passkeyOps(passkeyRecord({ key_id: old.keyId, name: 'planted', created_at: now })),
      core.secondFactors.policyOp('admin', {
        key_id: old.keyId,
        second_factor: 'passkey',
        totp: null,
        totp_pending: null,
        recovery_codes: [],
        updated_at: now,
      }),
    ]);
    const oldKey = await core.keys.getRoot(old.keyId);
    if (!oldKey) throw new Error('key missing');
    await core.store.batch([core.keys.putOp(old.keyId, { ...oldKey, revoked_at: now })]);

    const res = await provision(core, 'admin', 'another password 1');
    expect(res.outcome).toBe('replaced');
    expect(await core.store.scan('passkey:')).toEqual([]);
    expect(await core.store.scan('idx:user_passkeys:')).toEqual([]);
    expect(await core.store.scan('mfa:')).toEqual([]);
  });

  it("a password change keeps the account's passkeys and policy (same key id)", async () => {
    const { core, t } = await setup();
    const old = await provision(core, 'admin', 'correct horse battery');
    const now = nowSeconds(t.clock);
    await core.store.batch(core.secondFactors.passkeyOps(passkeyRecord({ key_id: old.keyId, created_at: now })));
    expect((await provision(core, 'admin', 'another password 1')).outcome).toBe('password_changed');
    expect(await core.secondFactors.passkeys('admin', old.keyId)).toHaveLength(1);
  });

  it('an expired root key is replaced and revoked, never resurrected', async () => {
    const { core, t } = await setup();
    const old = await provision(core, 'admin', 'correct horse battery');
    const oldKey = await core.keys.getRoot(old.keyId);
    if (!oldKey) throw new Error('key missing');
    const now = nowSeconds(t.clock);
    await core.store.batch([core.keys.putOp(old.keyId, { ...oldKey, expires_at: now })]);
    const res = await provision(core, 'admin', 'correct horse battery');
    expect(res.outcome).toBe('replaced');
    expect(res.keyId).not.toBe(old.keyId);
    expect(await core.keys.getRoot(old.keyId)).toMatchObject({ revoked_at: now, expires_at: now });
  });

  it('a missing root key record is replaced; the user keeps its created_at', async () => {
    const { core, t } = await setup();
    const created = nowSeconds(t.clock);
    const old = await provision(core, 'admin', 'correct horse battery');
    await core.store.del(`root_key:${old.keyId}`);
    t.clock.advanceSeconds(10);
    const res = await provision(core, 'admin', 'a different password');
    expect(res.outcome).toBe('replaced');
    expect(res.keyId).not.toBe(old.keyId);
    expect(await core.keys.getRoot(old.keyId)).toBeUndefined();
    expect(await core.users.get('admin')).toMatchObject({ key_id: res.keyId, created_at: created, updated_at: created + 10 });
    expect(await rootKeys(core)).toHaveLength(1);
  });
});

describe('provision — concurrency', () => {
  it('two concurrent first provisions of one username create one key', async () => {
    const { core } = await setup();
    const [a, b] = await Promise.all([
      provision(core, 'admin', 'correct horse battery', { wait: true }),
      provision(core, 'admin', 'correct horse battery', { wait: true }),
    ]);
    expect(a.keyId).toBe(b.keyId);
    expect([a.outcome, b.outcome].sort()).toEqual(['created', 'unchanged']);
    expect(await rootKeys(core)).toHaveLength(1);
  });
});

describe('accountExists', () => {
  it('false on an empty store, true once an admin is provisioned', async () => {
    const { core } = await setup();
    expect(await accountExists(core)).toBe(false);
    await provision(core, 'admin', 'correct horse battery');
    expect(await accountExists(core)).toBe(true);
  });

  it('a user whose root key is revoked, expired or missing is not an account', async () => {
    const { core } = await setup();
    const now = nowSeconds(core.clock);
    const base: KeyRecord = {
      key_type: 'Root',
      public_key: 'x',
      auth_method: 'user_password',
      root_key_id: null,
      name: null,
      permissions: ['admin'],
      created_at: now,
      revoked_at: null,
      expires_at: null,
    };
    const user = (keyId: string) => ({ key_id: keyId, password_hash: 'x', created_at: now, updated_at: now });
    await core.store.batch([
      putOp('root_key:revoked', { ...base, revoked_at: now }),
      putOp('root_key:expired', { ...base, expires_at: now }),
      core.users.putOp('u1', user('revoked')),
      core.users.putOp('u2', user('expired')),
      core.users.putOp('u3', user('missing')),
      // A valid root key nobody points at is not an account either.
      putOp('root_key:orphan', base),
    ]);
    expect(await accountExists(core)).toBe(false);

    await core.store.batch([putOp('root_key:later', { ...base, expires_at: now + 1 }), core.users.putOp('u4', user('later'))]);
    expect(await accountExists(core)).toBe(true);
  });

  it('the default test service (admin provisioned) has an account', async () => {
    t = await makeTestService();
    expect(await accountExists(t.svc.core)).toBe(true);
  });
});
