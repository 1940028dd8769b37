/**
 * Attacks on the `/admin/*` surface, one describe per class: privilege escalation by a key that
 * holds some admin permissions, tokens that outlive their revocation, lock-out of the operator,
 * and races between admin writes. (Path confusion and header smuggling: admin-auth.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { validateFromMemory } from '../../src/auth/validate.js';
import { updateKeyPermissions } from '../../src/keys/admin-ops.js';
import { addClientKey, addUser, claimsFor, decodeJwt, expectErr, expectPair, forgeSigned, T0 } from '../helpers/http.js';
import { adminWorld, call, clientCaller, expectCaller, expectData, expectRejected, type AdminWorld } from './admin-fixtures.js';

const worlds: AdminWorld[] = [];
async function world(): Promise<AdminWorld> {
  const w = await adminWorld();
  worlds.push(w);
  return w;
}
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.t.close()));
});

const permissionsOf = async (w: AdminWorld, id: string) => (await w.t.svc.core.keys.get(id))?.permissions;

describe('Security: privilege escalation', () => {
  it('a client key holding keys:permissions:update cannot grant itself admin: the middleware requires admin (§11 line 9)', async () => {
    const w = await world();
    const caller = await clientCaller(w.t, w.adminId, ['keys:permissions:update', 'keys:list']);
    for (const body of [{ add: ['admin'] }, { add: ['keys:list'] }, {}]) {
      const res = await call(w.t, 'PUT', `/admin/keys/${caller.id}/permissions`, { token: caller.access, body });
      await expectRejected(res, 403, 'permission_denied');
    }
    const scoped = await clientCaller(w.t, w.adminId, [`keys:permissions:update[${w.adminId}]`, 'keys']);
    await expectRejected(
      await call(w.t, 'PUT', `/admin/keys/${scoped.id}/permissions`, { token: scoped.access, body: { add: ['admin'] } }),
      403,
      'permission_denied',
    );
    expect(await permissionsOf(w, caller.id)).toEqual(['keys:permissions:update', 'keys:list']);
  });

  it('behind the middleware, the grant check refuses what exceeds the caller: 403 Cannot grant permissions that exceed your own', async () => {
    const w = await world();
    const id = await addClientKey(w.t, w.adminId, ['context:list']);
    await expect(updateKeyPermissions(w.t.svc.core, ['keys:permissions:update'], id, { add: ['admin'] })).rejects.toMatchObject({
      code: 'forbidden',
      message: 'Cannot grant permissions that exceed your own',
    });
    await expect(
      updateKeyPermissions(w.t.svc.core, ['keys:permissions:update', 'keys:list'], id, { add: ['keys:list', 'keys:create'] }),
    ).rejects.toMatchObject({ code: 'forbidden', message: 'Cannot grant permissions that exceed your own' });
    // Removals are never grant-checked (the middleware's admin requirement is what guards them).
    await expect(updateKeyPermissions(w.t.svc.core, [], id, { remove: ['x'], add: [] })).resolves.toEqual(['context:list']);
    expect(await permissionsOf(w, id)).toEqual(['context:list']);
  });

  it('a client key cannot create or update root accounts, not even with keys:create or keys (§11 line 80)', async () => {
    const w = await world();
    const body = {
      public_key: 'mallory',
      auth_method: 'user_password',
      provider_data: { username: 'admin', password: 'mallory takes over' },
    };
    for (const perms of [['keys:create'], ['keys'], ['keys:create', 'keys:list', 'keys:delete']]) {
      const caller = await clientCaller(w.t, w.adminId, perms);
      await expectRejected(await call(w.t, 'POST', '/admin/keys', { token: caller.access, body }), 403, 'permission_denied');
    }
    // The admin's password still works: nothing was overwritten.
    expect((await w.t.login()).res.status).toBe(200);
  });

  it('a client key without keys:delete cannot revoke other keys by any route', async () => {
    const w = await world();
    const victim = await addClientKey(w.t, w.adminId, ['context:list']);
    const caller = await clientCaller(w.t, w.adminId, ['context:execute', 'keys:list', 'keys:clients:list']);
    await expectRejected(
      await call(w.t, 'POST', '/admin/revoke', { token: caller.access, body: { client_id: w.adminId } }),
      403,
      'permission_denied',
    );
    await expectRejected(
      await call(w.t, 'DELETE', `/admin/keys/${w.adminId}`, { token: caller.access }),
      403,
      'permission_denied',
    );
    await expectRejected(
      await call(w.t, 'DELETE', `/admin/keys/${w.adminId}/clients/${victim}`, { token: caller.access }),
      403,
      'permission_denied',
    );
    expect((await w.t.svc.core.keys.getRoot(w.adminId))?.revoked_at).toBeNull();
    expect((await w.t.svc.core.keys.getClient(victim))?.revoked_at).toBeNull();
  });

  it('keys:delete does not open client-key revocation, keys:clients:delete does not open root revocation (§11 line 83)', async () => {
    const w = await world();
    const victim = await addClientKey(w.t, w.adminId, ['context:list']);
    const deleter = await clientCaller(w.t, w.adminId, ['keys:delete']);
    await expectRejected(
      await call(w.t, 'DELETE', `/admin/keys/${w.adminId}/clients/${victim}`, { token: deleter.access }),
      403,
      'permission_denied',
    );
    const clientDeleter = await clientCaller(w.t, w.adminId, ['keys:clients:delete']);
    await expectRejected(
      await call(w.t, 'DELETE', `/admin/keys/${w.adminId}`, { token: clientDeleter.access }),
      403,
      'permission_denied',
    );
    await expectRejected(
      await call(w.t, 'POST', '/admin/revoke', { token: clientDeleter.access, body: { client_id: w.adminId } }),
      403,
      'permission_denied',
    );
  });

  it('a client key cannot remove permissions from a key it may not manage', async () => {
    const w = await world();
    const caller = await clientCaller(w.t, w.adminId, ['keys:list', 'keys:permissions:get', 'keys:delete']);
    const res = await call(w.t, 'PUT', `/admin/keys/${w.adminId}/permissions`, {
      token: caller.access,
      body: { remove: ['admin'], add: ['context:list'] },
    });
    await expectRejected(res, 403, 'permission_denied');
    expect(await permissionsOf(w, w.adminId)).toEqual(['admin']);
  });

  it('a global keys:permissions:get does not read a specific key (§11 line 84); keys does', async () => {
    const w = await world();
    const global = await clientCaller(w.t, w.adminId, ['keys:permissions:get', 'keys:list']);
    await expectRejected(
      await call(w.t, 'GET', `/admin/keys/${w.adminId}/permissions`, { token: global.access }),
      403,
      'permission_denied',
    );
    const other = await clientCaller(w.t, w.adminId, [`keys:permissions:get[${global.id}]`]);
    await expectRejected(
      await call(w.t, 'GET', `/admin/keys/${w.adminId}/permissions`, { token: other.access }),
      403,
      'permission_denied',
    );
    const umbrella = await clientCaller(w.t, w.adminId, ['keys']);
    await expectData(await call(w.t, 'GET', `/admin/keys/${w.adminId}/permissions`, { token: umbrella.access }), {
      permissions: ['admin'],
    });
  });

  it('a token claiming more than its key holds gets only the intersection (a validly signed, inflated claim)', async () => {
    const w = await world();
    const caller = await clientCaller(w.t, w.adminId, ['context:list']);
    const sid = decodeJwt(caller.access).payload.sid as string;
    const inflated = await forgeSigned(w.t, claimsFor(w.t, { sub: caller.id, sid, permissions: ['admin', 'context:list'] }));
    const res = await call(w.t, 'GET', '/admin/identity', { token: inflated });
    expectCaller(res, caller.id, ['context:list']);
    await expectRejected(await call(w.t, 'GET', '/admin/keys', { token: inflated }), 403, 'permission_denied');
    const mint = await call(w.t, 'POST', '/admin/client-key', { token: inflated, body: { permissions: ['admin'] } });
    await expectErr(mint, 403, 'Token does not have admin permissions');
  });

  it('admin-like strings that parse to Admin pass the table but never mint client keys (literal admin only)', async () => {
    const w = await world();
    const caller = await clientCaller(w.t, w.adminId, ['admin:x']);
    expect((await call(w.t, 'GET', '/admin/keys', { token: caller.access })).status).toBe(200);
    await expectErr(
      await call(w.t, 'POST', '/admin/client-key', { token: caller.access, body: {} }),
      403,
      'Token does not have admin permissions',
    );
  });

  it('client-key minting cannot hand on what the parent cannot: an unparseable permission, even for an admin root', async () => {
    const w = await world();
    for (const p of ['context:subscribe', 'Admin', 'keys:update-permissions[x]']) {
      await expectErr(
        await call(w.t, 'POST', '/admin/client-key', { token: w.admin.access, body: { permissions: [p] } }),
        400,
        `Root key does not have permission: ${p}`,
      );
    }
    expect(await w.t.svc.core.store.scan('client_key:')).toEqual([]);
  });

  it('a client key minted by a client key cannot outlive the grant: editing it re-checks its (client) parent', async () => {
    const w = await world();
    const parent = await clientCaller(w.t, w.adminId, ['admin']);
    const { access } = await expectPair(
      await call(w.t, 'POST', '/admin/client-key', { token: parent.access, body: { permissions: ['context:list'] } }),
    );
    const child = decodeJwt(access).payload.sub as string;
    // The parent loses admin: a later grant to the child is refused by the parent check.
    await expectData(
      await call(w.t, 'PUT', `/admin/keys/${parent.id}/permissions`, {
        token: w.admin.access,
        body: { add: ['context:list'], remove: ['admin'] },
      }),
      { permissions: ['context:list'] },
    );
    await expectErr(
      await call(w.t, 'PUT', `/admin/keys/${child}/permissions`, { token: w.admin.access, body: { add: ['context:execute'] } }),
      400,
      'Root key does not have permission: context:execute',
    );
  });
});

describe('Security: revoked credentials die everywhere at once', () => {
  const ROUTES: Array<[string, (w: AdminWorld, id: string) => Promise<Response>]> = [
    ['POST /admin/revoke', (w, id) => call(w.t, 'POST', '/admin/revoke', { token: w.admin.access, body: { client_id: id } })],
    [
      'DELETE /admin/keys/:key_id/clients/:client_id',
      (w, id) => call(w.t, 'DELETE', `/admin/keys/${w.adminId}/clients/${id}`, { token: w.admin.access }),
    ],
  ];

  it.each(ROUTES)('%s: validate, /admin/* and refresh all answer 403 token_revoked', async (_name, revoke) => {
    const w = await world();
    const { access, refresh } = await expectPair(
      await call(w.t, 'POST', '/admin/client-key', { token: w.admin.access, body: { permissions: ['admin'] } }),
    );
    const id = decodeJwt(access).payload.sub as string;
    expect((await revoke(w, id)).status).toBe(200);

    const v = await call(w.t, 'GET', '/auth/validate', { token: access });
    expect({ status: v.status, xae: v.headers.get('x-auth-error') }).toEqual({ status: 403, xae: 'token_revoked' });
    for (const [method, path] of [
      ['GET', '/admin/keys'],
      ['GET', '/admin/identity'],
      ['POST', '/admin/client-key'],
    ] as const) {
      await expectRejected(
        await call(w.t, method, path, { token: access, ...(method === 'POST' ? { body: {} } : {}) }),
        403,
        'token_revoked',
      );
    }
    w.t.clock.advanceSeconds(1800 + 61);
    const r = await w.t.post('/auth/refresh', { access_token: access, refresh_token: refresh }, { host: 'localhost:3001' });
    expect({ status: r.status, xae: r.headers.get('x-auth-error') }).toEqual({ status: 403, xae: 'token_revoked' });
  });

  it("DELETE /admin/keys/:key_id: the root key's login tokens die on validate, /admin/* and refresh", async () => {
    const w = await world();
    await addUser(w.t, 'bob', 'bob password 1');
    const bob = await w.t.login({ username: 'bob', password: 'bob password 1' });
    const bobId = decodeJwt(bob.access).payload.sub as string;
    expect((await call(w.t, 'DELETE', `/admin/keys/${bobId}`, { token: w.admin.access })).status).toBe(200);
    const v = await call(w.t, 'GET', '/auth/validate', { token: bob.access });
    expect({ status: v.status, xae: v.headers.get('x-auth-error') }).toEqual({ status: 403, xae: 'token_revoked' });
    await expectRejected(await call(w.t, 'GET', '/admin/keys', { token: bob.access }), 403, 'token_revoked');
    w.t.clock.advanceSeconds(1800 + 61);
    const r = await w.t.post(
      '/auth/refresh',
      { access_token: bob.access, refresh_token: bob.refresh },
      { host: 'localhost:3001' },
    );
    expect({ status: r.status, xae: r.headers.get('x-auth-error') }).toEqual({ status: 403, xae: 'token_revoked' });
  });

  it('a revoked key cannot be revived by a permission edit', async () => {
    const w = await world();
    const id = await addClientKey(w.t, w.adminId, ['context:list']);
    await expectData(await call(w.t, 'POST', '/admin/revoke', { token: w.admin.access, body: { client_id: id } }), {
      success: true,
      message: 'Tokens revoked successfully',
    });
    await expectErr(
      await call(w.t, 'PUT', `/admin/keys/${id}/permissions`, { token: w.admin.access, body: { add: ['context:execute'] } }),
      404,
      'Key not found',
    );
    expect((await w.t.svc.core.keys.getClient(id))?.revoked_at).toBe(T0);
  });
});

describe('Security: revocation cascades down the key chain (issue 10 item 1)', () => {
  /** bob (a second account) → an admin client key C1 minted by bob → C2 minted by C1. */
  async function chain(w: AdminWorld) {
    const bobId = await addUser(w.t, 'bob', 'bob password 1');
    const bob = await w.t.login({ username: 'bob', password: 'bob password 1' });
    const c1 = await expectPair(
      await call(w.t, 'POST', '/admin/client-key', { token: bob.access, body: { permissions: ['admin'] } }),
    );
    const c2 = await expectPair(
      await call(w.t, 'POST', '/admin/client-key', { token: c1.access, body: { permissions: ['admin'] } }),
    );
    const ids = (pair: { access: string }) => {
      const { sub, sid } = decodeJwt(pair.access).payload as { sub: string; sid: string };
      return { id: sub, sid };
    };
    return { bobId, bob, c1: { ...c1, ...ids(c1) }, c2: { ...c2, ...ids(c2) } };
  }

  async function expectDead(w: AdminWorld, pair: { access: string; refresh: string }, message: string): Promise<void> {
    const v = await call(w.t, 'GET', '/auth/validate', { token: pair.access });
    expect({ status: v.status, xae: v.headers.get('x-auth-error'), body: await v.json() }).toEqual({
      status: 403,
      xae: 'token_revoked',
      body: { data: null, error: message },
    });
    await expectRejected(await call(w.t, 'GET', '/admin/keys', { token: pair.access }), 403, 'token_revoked');
    // The escape hatch of the report: creating a fresh admin account with the orphaned key.
    await expectRejected(
      await call(w.t, 'POST', '/admin/keys', {
        token: pair.access,
        body: { auth_method: 'user_password', public_key: 'eve', provider_data: { username: 'eve', password: 'eve password 1' } },
      }),
      403,
      'token_revoked',
    );
    await expectRejected(await call(w.t, 'POST', '/admin/client-key', { token: pair.access, body: {} }), 403, 'token_revoked');
  }

  const REVOKERS: Array<[string, (w: AdminWorld, bobId: string) => Promise<Response>]> = [
    [
      'POST /admin/revoke',
      (w, bobId) => call(w.t, 'POST', '/admin/revoke', { token: w.admin.access, body: { client_id: bobId } }),
    ],
    ['DELETE /admin/keys/:key_id', (w, bobId) => call(w.t, 'DELETE', `/admin/keys/${bobId}`, { token: w.admin.access })],
  ];

  it.each(REVOKERS)(
    '%s on a root key revokes every descendant client key and its sessions in the same write',
    async (_n, revoke) => {
      const w = await world();
      const { bobId, c1, c2 } = await chain(w);
      expect((await call(w.t, 'GET', '/auth/validate', { token: c2.access })).status).toBe(200);
      const batches: string[][] = [];
      const store = w.t.svc.core.store;
      const batch = store.batch.bind(store);
      store.batch = (ops) => {
        batches.push(ops.map((o) => o.key));
        return batch(ops);
      };
      expect((await revoke(w, bobId)).status).toBe(200);
      // One durable write ends the root key, both descendants and all three sessions.
      const write = batches.find((keys) => keys.includes(`root_key:${bobId}`));
      expect(write).toEqual(
        expect.arrayContaining([`client_key:${c1.id}`, `client_key:${c2.id}`, `session:${c1.sid}`, `session:${c2.sid}`]),
      );
      for (const id of [c1.id, c2.id]) expect((await w.t.svc.core.keys.getClient(id))?.revoked_at).toBe(T0);
      for (const sid of [c1.sid, c2.sid]) {
        expect(await w.t.svc.core.sessions.get(sid)).toMatchObject({ revoked_at: T0, revoked_reason: 'key_revoked' });
      }
      for (const pair of [c1, c2]) await expectDead(w, pair, 'Key has been revoked');
      w.t.clock.advanceSeconds(1800 + 61);
      for (const pair of [c1, c2]) {
        const r = await w.t.post(
          '/auth/refresh',
          { access_token: pair.access, refresh_token: pair.refresh },
          { host: 'localhost:3001' },
        );
        expect({ status: r.status, xae: r.headers.get('x-auth-error') }).toEqual({ status: 403, xae: 'token_revoked' });
      }
      // Nobody got in: only the two accounts that existed before.
      expect((await w.t.svc.core.users.list()).map(([name]) => name).sort()).toEqual(['admin', 'bob']);
    },
  );

  it('DELETE /admin/keys/:key_id/clients/:client_id revokes the keys the client key minted', async () => {
    const w = await world();
    const { bobId, c1, c2 } = await chain(w);
    expect((await call(w.t, 'DELETE', `/admin/keys/${bobId}/clients/${c1.id}`, { token: w.admin.access })).status).toBe(200);
    expect((await w.t.svc.core.keys.getClient(c2.id))?.revoked_at).toBe(T0);
    await expectDead(w, c2, 'Key has been revoked');
  });

  it('every check walks the ancestor chain: a root key revoked without the cascade (older data) still ends its client keys everywhere', async () => {
    const w = await world();
    const { bobId, c1, c2 } = await chain(w);
    // Warm every cache on the way (the allow path answers from memory).
    for (const pair of [c1, c2]) expect((await call(w.t, 'GET', '/auth/validate', { token: pair.access })).status).toBe(200);
    const { core } = w.t.svc;
    const bob = await core.keys.getRoot(bobId);
    await core.store.batch([core.keys.putOp(bobId, { ...bob!, revoked_at: T0 })]);
    const host = { host: 'localhost:3001' };
    for (const pair of [c1, c2]) {
      // The lane's decision from memory (everything is cached) does not allow it either.
      const req = {
        authorization: `Bearer ${pair.access}`,
        host,
        forwardedUri: undefined,
        forwardedMethod: undefined,
        enforce: true,
      };
      expect(validateFromMemory(core, req)).toBeUndefined();
      await expectDead(w, pair, 'Client key is no longer authorised by its root key');
    }
    w.t.clock.advanceSeconds(1800 + 61);
    const r = await w.t.post('/auth/refresh', { access_token: c2.access, refresh_token: c2.refresh }, host);
    expect({ status: r.status, xae: r.headers.get('x-auth-error') }).toEqual({ status: 403, xae: 'token_revoked' });
  });
});

describe('Security: operator lock-out', () => {
  it("DELETE /admin/keys/:key_id never revokes the last active root key, not even the caller's own", async () => {
    const w = await world();
    const res = await call(w.t, 'DELETE', `/admin/keys/${w.adminId}`, { token: w.admin.access });
    await expectData(res, { status: false, message: 'Cannot delete the last active root key' });
    expect((await w.t.login()).res.status).toBe(200);
  });

  it('POST /admin/revoke never revokes the last account able to log in with admin: 200 success:false, nothing written (issue 10 item 2)', async () => {
    const w = await world();
    // Neither a mock root key (no account can log in with it) nor a non-admin account counts.
    await w.t.svc.core.store.batch([
      w.t.svc.core.keys.putOp('mock_x_1', {
        key_type: 'Root',
        public_key: 'mock_public_key_1',
        auth_method: 'mock_auth',
        root_key_id: null,
        name: null,
        permissions: ['admin'],
        created_at: T0,
        revoked_at: null,
        expires_at: null,
      }),
    ]);
    await addUser(w.t, 'carol', 'carol password 1', { permissions: ['keys:list'] });
    const res = await call(w.t, 'POST', '/admin/revoke', { token: w.admin.access, body: { client_id: w.adminId } });
    await expectData(res, { success: false, message: 'Cannot revoke the last admin account' });
    expect((await w.t.svc.core.keys.getRoot(w.adminId))?.revoked_at).toBeNull();
    expect((await call(w.t, 'GET', '/admin/identity', { token: w.admin.access })).status).toBe(200);
    expect((await w.t.login()).res.status).toBe(200);
    // DELETE applies the same rule once more than one root key exists.
    await expectData(await call(w.t, 'DELETE', `/admin/keys/${w.adminId}`, { token: w.admin.access }), {
      status: false,
      message: 'Cannot delete the last admin account',
    });
    expect((await w.t.svc.core.keys.getRoot(w.adminId))?.revoked_at).toBeNull();
    // With a second admin account, either route may revoke the first.
    await addUser(w.t, 'bob', 'bob password 1');
    await expectData(await call(w.t, 'POST', '/admin/revoke', { token: w.admin.access, body: { client_id: w.adminId } }), {
      success: true,
      message: 'Tokens revoked successfully',
    });
  });

  it('two concurrent revocations of the last two admin accounts revoke exactly one', async () => {
    const w = await world();
    const bob = await addUser(w.t, 'bob', 'bob password 1');
    const bobLogin = await w.t.login({ username: 'bob', password: 'bob password 1' });
    const [a, b] = await Promise.all([
      call(w.t, 'POST', '/admin/revoke', { token: bobLogin.access, body: { client_id: w.adminId } }),
      call(w.t, 'POST', '/admin/revoke', { token: w.admin.access, body: { client_id: bob } }),
    ]);
    const bodies = [await a.text(), await b.text()];
    expect(bodies.filter((t) => t.includes('"success":true'))).toHaveLength(1);
    const valid = (await w.t.svc.core.keys.listRoot()).filter(([, k]) => k.revoked_at === null);
    expect(valid).toHaveLength(1);
  });

  it('two concurrent deletes of the last two root keys revoke exactly one', async () => {
    const w = await world();
    const bob = await addUser(w.t, 'bob', 'bob password 1');
    // The caller is neither target, so both requests surely reach the handler.
    const operator = await clientCaller(w.t, w.adminId, ['keys:delete']);
    const [a, b] = await Promise.all([
      call(w.t, 'DELETE', `/admin/keys/${w.adminId}`, { token: operator.access }),
      call(w.t, 'DELETE', `/admin/keys/${bob}`, { token: operator.access }),
    ]);
    // When the admin's key goes first, the operator (its client key) goes with it, so the other
    // request may also be refused at the door (403): either way one revocation lands.
    const bodies = [await a.text(), await b.text()];
    expect(bodies.filter((t) => t.includes('"revoked_at"'))).toHaveLength(1);
    expect([a.status, b.status].sort()).toEqual(bodies.some((t) => t === '') ? [200, 403] : [200, 200]);
    const valid = (await w.t.svc.core.keys.listRoot()).filter(([, k]) => k.revoked_at === null);
    expect(valid).toHaveLength(1);
  });
});

describe('Security: racing admin writes', () => {
  it('a permission edit racing a revocation never un-revokes the key', async () => {
    const w = await world();
    for (let i = 0; i < 10; i++) {
      const id = await addClientKey(w.t, w.adminId, ['context:list']);
      await Promise.all([
        call(w.t, 'PUT', `/admin/keys/${id}/permissions`, { token: w.admin.access, body: { add: [`context:list[c${i}]`] } }),
        call(w.t, 'POST', '/admin/revoke', { token: w.admin.access, body: { client_id: id } }),
        call(w.t, 'PUT', `/admin/keys/${id}/permissions`, { token: w.admin.access, body: { add: ['context:execute'] } }),
      ]);
      expect((await w.t.svc.core.keys.getClient(id))?.revoked_at).toBe(T0);
    }
  });

  it('concurrent revocations of one key: one 200, the others 404, counted once', async () => {
    const w = await world();
    const id = await addClientKey(w.t, w.adminId, ['context:list']);
    const results = await Promise.all(
      [1, 2, 3].map(() => call(w.t, 'POST', '/admin/revoke', { token: w.admin.access, body: { client_id: id } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 404, 404]);
    expect(w.t.svc.core.metrics.admin.snapshot().token_revocations).toBe(1);
  });
});
