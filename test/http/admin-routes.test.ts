/**
 * The `/admin/*` handlers (wire §5.2–§5.12): success bodies byte for byte, every error with its
 * exact message and status, and the effects on the store, the sessions and the metrics.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { updateKeyPermissions } from '../../src/keys/admin-ops.js';
import { nowSeconds } from '../../src/util/clock.js';
import {
  addClientKey,
  addUser,
  decodeJwt,
  expectErr,
  expectErrPrefix,
  expectExtraction,
  expectPair,
  mintPair,
  T0,
  updateKey,
  UUID_V4,
} from '../helpers/http.js';
import { makeTestService, type TestService } from '../helpers/service.js';
import {
  ADMIN,
  adminWorld,
  call,
  clientCaller,
  dataOf,
  expectCaller,
  expectData,
  expectText,
  type AdminWorld,
} from './admin-fixtures.js';

const worlds: AdminWorld[] = [];
async function world(...args: Parameters<typeof adminWorld>): Promise<AdminWorld> {
  const w = await adminWorld(...args);
  worlds.push(w);
  return w;
}
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.t.close()));
});

const raw = async (t: TestService, key: string): Promise<string | undefined> => {
  const bytes = await t.svc.core.store.get(key);
  return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');
};
const validate = (t: TestService, token: string) => call(t, 'GET', '/auth/validate', { token });
const refreshPair = (t: TestService, access: string, refresh: string) =>
  t.post('/auth/refresh', { access_token: access, refresh_token: refresh }, { host: 'localhost:3001' });

// ── §5.2 POST /admin/revoke ─────────────────────────────────────────────────────────────────

describe('POST /admin/revoke (wire §5.2)', () => {
  const revoke = (w: AdminWorld, body: unknown, headers?: Record<string, string>) =>
    call(w.t, 'POST', '/admin/revoke', { token: w.admin.access, body, ...(headers ? { headers } : {}) });

  it.each([
    ['no content type', undefined, 400, 'Invalid JSON: Expected request with `Content-Type: application/json`'],
    ['invalid JSON', '{', 400, 'Invalid JSON: Failed to parse the request body as JSON: '],
    ['an empty body', '', 400, 'Invalid JSON: Failed to parse the request body as JSON: '],
    [
      'missing client_id',
      {},
      400,
      'Invalid JSON: Failed to deserialize the JSON body into the target type: missing field `client_id`',
    ],
    ['client_id null', { client_id: null }, 400, 'Invalid JSON: Failed to deserialize the JSON body into the target type: '],
    ['client_id a number', { client_id: 5 }, 400, 'Invalid JSON: Failed to deserialize the JSON body into the target type: '],
    ['client_id empty', { client_id: '' }, 422, 'Validation error: client_id: Client ID cannot be empty'],
  ] as const)('extraction: %s', async (_name, body, status, message) => {
    const w = await world();
    const res =
      body === undefined
        ? await call(w.t, 'POST', '/admin/revoke', {
            token: w.admin.access,
            headers: { 'content-type': 'text/plain' },
            body: '{}',
          })
        : await revoke(w, body);
    expectCaller(res, w.adminId, ['admin']);
    await expectExtraction(res, status, message, status === 422 || message.endsWith('`'));
  });

  it('a client_id with no identifier characters → 400 Client ID must contain valid characters', async () => {
    const w = await world();
    await expectErr(await revoke(w, { client_id: '!@#$ %^' }), 400, 'Client ID must contain valid characters');
  });

  it('an unknown key → 404 Key not found', async () => {
    const w = await world();
    await expectErr(await revoke(w, { client_id: 'no-such-key' }), 404, 'Key not found');
  });

  it('an already revoked or an expired key → 404 Key not found', async () => {
    const w = await world();
    const revoked = await addClientKey(w.t, w.adminId, ['context:list']);
    await updateKey(w.t, revoked, { revoked_at: T0 - 5 });
    const expired = await addClientKey(w.t, w.adminId, ['context:list']);
    await updateKey(w.t, expired, { expires_at: T0 });
    await expectErr(await revoke(w, { client_id: revoked }), 404, 'Key not found');
    await expectErr(await revoke(w, { client_id: expired }), 404, 'Key not found');
    expect(w.t.svc.core.metrics.admin.snapshot().token_revocations).toBe(0);
  });

  it('a client key: 200, its sessions end in the same write, its tokens answer 403 token_revoked everywhere', async () => {
    const w = await world();
    const victim = await clientCaller(w.t, w.adminId, ['context:list']);
    const second = await mintPair(w.t, { sub: victim.id, permissions: ['context:list'] });
    const res = await revoke(w, { client_id: victim.id });
    expectCaller(res, w.adminId, ['admin']);
    await expectData(res, { success: true, message: 'Tokens revoked successfully' });

    const key = await w.t.svc.core.keys.getClient(victim.id);
    expect(key?.revoked_at).toBe(T0);
    for (const sid of [victim.sid, second.sid]) {
      expect(await w.t.svc.core.sessions.get(sid)).toMatchObject({ revoked_at: T0, revoked_reason: 'key_revoked' });
    }
    for (const token of [victim.access, second.access]) {
      await expectErr(await validate(w.t, token), 403, 'Key has been revoked', 'token_revoked');
      const admin = await call(w.t, 'GET', '/admin/identity', { token });
      expect({ status: admin.status, xae: admin.headers.get('x-auth-error'), body: await admin.text() }).toEqual({
        status: 403,
        xae: 'token_revoked',
        body: '',
      });
    }
    w.t.clock.advanceSeconds(1800 + 61);
    const refreshed = await refreshPair(w.t, victim.access, victim.refresh);
    expect({ status: refreshed.status, xae: refreshed.headers.get('x-auth-error') }).toEqual({
      status: 403,
      xae: 'token_revoked',
    });
    expect(w.t.svc.core.metrics.admin.snapshot().token_revocations).toBe(1);
  });

  it("a root key, by a sanitised id, while another admin account remains: 200, the caller's own tokens die with it", async () => {
    const w = await world();
    await addUser(w.t, 'bob', 'bob password 1');
    const res = await revoke(w, { client_id: `${w.adminId}!` });
    await expectData(res, { success: true, message: 'Tokens revoked successfully' });
    expect((await w.t.svc.core.keys.getRoot(w.adminId))?.revoked_at).toBe(T0);
    // The caller's own token died with its key.
    const after = await call(w.t, 'GET', '/admin/identity', { token: w.admin.access });
    expect({ status: after.status, xae: after.headers.get('x-auth-error') }).toEqual({ status: 403, xae: 'token_revoked' });
    const login = await w.t.login();
    expect(login.res.status).toBe(401);
    expect((await w.t.login({ username: 'bob', password: 'bob password 1' })).res.status).toBe(200);
  });

  it('revoking a root key revokes its client keys too (unlike Rust); revoking one of them again → 404', async () => {
    const w = await world();
    const other = await addUser(w.t, 'other', 'other password 1');
    const client = await addClientKey(w.t, other, ['context:list']);
    await expectData(await revoke(w, { client_id: other }), { success: true, message: 'Tokens revoked successfully' });
    expect((await w.t.svc.core.keys.getClient(client))?.revoked_at).toBe(T0);
    await expectErr(await revoke(w, { client_id: client }), 404, 'Key not found');
  });
});

// ── §5.3 GET /admin/keys ─────────────────────────────────────────────────────────────────────

describe('GET /admin/keys (wire §5.3)', () => {
  it('lists every root key, revoked, expired and mock keys included, ordered by key id; no client keys', async () => {
    const w = await world();
    const bob = await addUser(w.t, 'bob', 'bob password 1', { nodeUrl: 'https://node.example' });
    const carol = await addUser(w.t, 'carol', 'carol password 1', { permissions: ['keys:list'] });
    await updateKey(w.t, carol, { revoked_at: T0 + 1 });
    const dave = await addUser(w.t, 'dave', 'dave password 1');
    await updateKey(w.t, dave, { expires_at: T0 - 1 });
    const mockId = 'mock_x_1';
    await w.t.svc.core.store.batch([
      w.t.svc.core.keys.putOp(mockId, {
        key_type: 'Root',
        public_key: 'mock_public_key_1',
        auth_method: 'mock_auth',
        root_key_id: null,
        name: null,
        permissions: ['admin'],
        created_at: 7,
        revoked_at: null,
        expires_at: null,
      }),
    ]);
    await addClientKey(w.t, w.adminId, ['context:list']);

    const row = (
      id: string,
      publicKey: string,
      permissions: string[],
      revoked: number | null,
      created = T0,
      method = 'user_password',
    ) => ({
      key_id: id,
      public_key: publicKey,
      auth_method: method,
      created_at: created,
      revoked_at: revoked,
      permissions,
    });
    const expected = [
      row(w.adminId, ADMIN.username, ['admin'], null),
      row(bob, 'bob', ['admin'], null),
      row(carol, 'carol', ['keys:list'], T0 + 1),
      row(dave, 'dave', ['admin'], null),
      row(mockId, 'mock_public_key_1', ['admin'], null, 7, 'mock_auth'),
    ].sort((a, b) => (a.key_id < b.key_id ? -1 : 1));
    const res = await call(w.t, 'GET', '/admin/keys', { token: w.admin.access });
    expectCaller(res, w.adminId, ['admin']);
    await expectData(res, expected);
  });
});

// ── §5.4 POST /admin/keys ────────────────────────────────────────────────────────────────────

describe('POST /admin/keys (wire §5.4)', () => {
  const create = (w: AdminWorld, body: unknown, headers?: Record<string, string>) =>
    call(w.t, 'POST', '/admin/keys', { token: w.admin.access, body, ...(headers ? { headers } : {}) });
  const request = (o: Record<string, unknown> = {}) => ({
    public_key: 'bob-pk',
    auth_method: 'user_password',
    provider_data: { username: 'bob', password: 'bob password 1' },
    ...o,
  });

  it('extraction errors are plain text: 415 wrong content type', async () => {
    const w = await world();
    for (const headers of [{ 'content-type': 'text/plain' }, { 'content-type': 'application/jsonx' }]) {
      await expectText(await create(w, request(), headers), 415, 'Expected request with `Content-Type: application/json`');
    }
    const none = await call(w.t, 'POST', '/admin/keys', { token: w.admin.access });
    await expectText(none, 415, 'Expected request with `Content-Type: application/json`');
  });

  it('400 syntax error, plain text', async () => {
    const w = await world();
    await expectText(await create(w, '{"public_key":'), 400, 'Failed to parse the request body as JSON: ', false);
    await expectText(await create(w, ''), 400, 'Failed to parse the request body as JSON: ', false);
  });

  it.each([
    ['not an object', []],
    ['missing public_key', { auth_method: 'user_password', provider_data: {} }],
    ['missing auth_method', { public_key: 'x', provider_data: {} }],
    ['missing provider_data', { public_key: 'x', auth_method: 'user_password' }],
    ['public_key not a string', { public_key: 1, auth_method: 'user_password', provider_data: {} }],
    ['auth_method null', { public_key: 'x', auth_method: null, provider_data: {} }],
    ['target_node_url a number', { public_key: 'x', auth_method: 'user_password', provider_data: {}, target_node_url: 3 }],
  ])('422 %s, plain text', async (_name, body) => {
    const w = await world();
    await expectText(await create(w, body), 422, 'Failed to deserialize the JSON body into the target type: ', false);
  });

  it('sanitised fields that end up empty → 400, auth_method first', async () => {
    const w = await world();
    await expectErr(
      await create(w, request({ auth_method: '!!', public_key: '\u0001' })),
      400,
      'Authentication method must contain valid characters',
    );
    await expectErr(await create(w, request({ public_key: '\u0001é\n' })), 400, 'Public key cannot be empty after sanitization');
  });

  it('an unknown provider → 500 Provider not found; so is user_password when it is disabled', async () => {
    const w = await world();
    await expectErr(await create(w, request({ auth_method: 'near_wallet' })), 500, 'Provider not found');
    const off = await makeTestService({ providers: { user_password: false } });
    try {
      const { access } = await mintPair(off);
      const res = await call(off, 'POST', '/admin/keys', { token: access, body: request() });
      await expectErr(res, 500, 'Provider not found');
    } finally {
      await off.close();
    }
  });

  it.each([
    ['provider_data null', null, "Missing or invalid 'username' in provider data"],
    ['no username', { password: 'bob password 1' }, "Missing or invalid 'username' in provider data"],
    ['an empty username', { username: '', password: 'bob password 1' }, "Missing or invalid 'username' in provider data"],
    ['a numeric username', { username: 5, password: 'bob password 1' }, "Missing or invalid 'username' in provider data"],
    ['no password', { username: 'bob' }, "Missing or invalid 'password' in provider data"],
    ['a numeric password', { username: 'bob', password: 12345678 }, "Missing or invalid 'password' in provider data"],
    ['a short password', { username: 'bob', password: 'short' }, 'Password must be at least 8 characters long'],
    ['a long password', { username: 'bob', password: 'x'.repeat(129) }, 'Password must be at most 128 characters long'],
  ])('%s → 500, nothing stored', async (_name, providerData, message) => {
    const w = await world();
    await expectErr(await create(w, request({ provider_data: providerData })), 500, message);
    expect(await w.t.svc.core.users.get('bob')).toBeUndefined();
  });

  it('a new username → Key was created: an admin root key with the request public_key, auth_method and node_url', async () => {
    const w = await world();
    const res = await create(w, request({ public_key: 'bob\u0000-pk', target_node_url: 'https://node.example' }));
    expectCaller(res, w.adminId, ['admin']);
    await expectData(res, { status: true, message: 'Key was created' });
    const user = await w.t.svc.core.users.get('bob');
    expect(user).toBeDefined();
    const stored = await raw(w.t, `root_key:${user?.key_id}`);
    expect(stored).toBe(
      JSON.stringify({
        key_type: 'Root',
        public_key: 'bob-pk',
        auth_method: 'user_password',
        root_key_id: null,
        name: null,
        permissions: ['admin'],
        node_url: 'https://node.example',
        created_at: T0,
        revoked_at: null,
        expires_at: null,
      }),
    );
    const login = await w.t.login({ username: 'bob', password: 'bob password 1', client_name: 'https://node.example' });
    expect(login.res.status).toBe(200);
  });

  it('an existing username → Key was updated; a new password ends the old sessions', async () => {
    const w = await world();
    await expectData(await create(w, request()), { status: true, message: 'Key was created' });
    await expectData(await create(w, request()), { status: true, message: 'Key was updated' });
    const bob = await w.t.login({ username: 'bob', password: 'bob password 1' });
    expect(bob.res.status).toBe(200);
    await expectData(await create(w, request({ provider_data: { username: 'bob', password: 'bob password 2' } })), {
      status: true,
      message: 'Key was updated',
    });
    await expectErr(await validate(w.t, bob.access), 403, 'Session has been revoked', 'token_revoked');
    expect((await w.t.login({ username: 'bob', password: 'bob password 1' })).res.status).toBe(401);
    expect((await w.t.login({ username: 'bob', password: 'bob password 2' })).res.status).toBe(200);
    // Still one account, one key.
    const users = await w.t.svc.core.users.list();
    expect(users.filter(([name]) => name === 'bob')).toHaveLength(1);
  });

  it('hashing slots saturated → 503 with Retry-After: 1, nothing stored', async () => {
    const w = await world({}, { hashPool: { slots: 1, queue: 0 } });
    let release = () => {};
    const held = w.t.svc.core.hashPool.run(() => new Promise<void>((r) => (release = r)));
    const res = await create(w, request());
    expect(res.headers.get('retry-after')).toBe('1');
    await expectErr(res, 503, 'Too many concurrent login attempts; please try again later');
    release();
    await held;
    expect(await w.t.svc.core.users.get('bob')).toBeUndefined();
  });
});

// ── §5.5 DELETE /admin/keys/:key_id ──────────────────────────────────────────────────────────

describe('DELETE /admin/keys/:key_id (wire §5.5)', () => {
  const del = (w: AdminWorld, id: string) => call(w.t, 'DELETE', `/admin/keys/${id}`, { token: w.admin.access });
  const LAST = { status: false, message: 'Cannot delete the last active root key' };

  it('the last active root key: 200 with status false, checked before the id is looked at', async () => {
    const w = await world();
    const res = await del(w, w.adminId);
    expectCaller(res, w.adminId, ['admin']);
    await expectData(res, LAST);
    await expectData(await del(w, 'no-such-key'), LAST);
    expect((await w.t.svc.core.keys.getRoot(w.adminId))?.revoked_at).toBeNull();
  });

  it('revoked and expired root keys do not count; client keys do not count; mock keys do', async () => {
    const w = await world();
    const revoked = await addUser(w.t, 'r', 'r password 1');
    await updateKey(w.t, revoked, { revoked_at: T0 });
    const expired = await addUser(w.t, 'e', 'e password 1');
    await updateKey(w.t, expired, { expires_at: T0 });
    await addClientKey(w.t, w.adminId, ['admin']);
    await expectData(await del(w, w.adminId), LAST);

    await w.t.svc.core.store.batch([
      w.t.svc.core.keys.putOp('mock_m_1', {
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
    await expectData(await del(w, 'mock_m_1'), { key_id: 'mock_m_1', revoked_at: T0 });
  });

  it('a second root key: 200 {key_id, revoked_at}; its sessions end in the same write', async () => {
    const w = await world();
    await addUser(w.t, 'bob', 'bob password 1');
    const bob = await w.t.login({ username: 'bob', password: 'bob password 1' });
    const bobId = (await w.t.svc.core.users.get('bob'))?.key_id as string;
    w.t.clock.advanceSeconds(5);
    await expectData(await del(w, bobId), { key_id: bobId, revoked_at: T0 + 5 });
    await expectErr(await validate(w.t, bob.access), 403, 'Key has been revoked', 'token_revoked');
    const sid = decodeJwt(bob.access).payload.sid as string;
    expect(await w.t.svc.core.sessions.get(sid)).toMatchObject({ revoked_at: T0 + 5, revoked_reason: 'key_revoked' });
    expect((await w.t.login({ username: 'bob', password: 'bob password 1' })).res.status).toBe(401);
    expect(w.t.svc.core.metrics.admin.snapshot().token_revocations).toBe(1);
    // Now the admin is the last one again.
    await expectData(await del(w, w.adminId), LAST);
  });

  it('errors: a client key → 400 Not a root key; absent or revoked → 404 Root key not found', async () => {
    const w = await world();
    const bob = await addUser(w.t, 'bob', 'bob password 1');
    const client = await addClientKey(w.t, w.adminId, ['admin']);
    await expectErr(await del(w, client), 400, 'Not a root key');
    await expectErr(await del(w, 'no-such-key'), 404, 'Root key not found');
    const carol = await addUser(w.t, 'carol', 'carol password 1');
    await updateKey(w.t, carol, { revoked_at: T0 });
    await expectErr(await del(w, carol), 404, 'Root key not found');
    expect((await w.t.svc.core.keys.getRoot(bob))?.revoked_at).toBeNull();
  });

  it('percent-encoded ids are decoded for the handler', async () => {
    const w = await world();
    const bob = await addUser(w.t, 'bob', 'bob password 1');
    const encoded = `%${bob.charCodeAt(0).toString(16)}${bob.slice(1)}`;
    await expectData(await del(w, encoded), { key_id: bob, revoked_at: T0 });
  });
});

// ── §5.6 GET /admin/keys/clients ─────────────────────────────────────────────────────────────

describe('GET /admin/keys/clients (wire §5.6)', () => {
  it('lists every client key, revoked ones included, ordered by client id, with is_valid', async () => {
    const w = await world();
    const a = await addClientKey(w.t, w.adminId, ['context:list']);
    const b = await addClientKey(w.t, w.adminId, ['admin']);
    await updateKey(w.t, b, { revoked_at: T0 + 2 });
    const c = await addClientKey(w.t, w.adminId, ['context:execute']);
    await updateKey(w.t, c, { expires_at: T0 });
    const d = 'zz-no-parent';
    await w.t.svc.core.store.batch([
      w.t.svc.core.keys.putOp(d, {
        key_type: 'Client',
        public_key: null,
        auth_method: null,
        root_key_id: null,
        name: null,
        permissions: [],
        created_at: 3,
        revoked_at: null,
        expires_at: null,
      }),
    ]);
    const row = (id: string, permissions: string[], revoked: number | null, valid: boolean) => ({
      client_id: id,
      root_key_id: w.adminId,
      name: 'Context Client - ctx (id)',
      permissions,
      created_at: T0,
      revoked_at: revoked,
      is_valid: valid,
    });
    const expected = [
      row(a, ['context:list'], null, true),
      row(b, ['admin'], T0 + 2, false),
      row(c, ['context:execute'], null, false),
      { client_id: d, root_key_id: '', name: '', permissions: [], created_at: 3, revoked_at: null, is_valid: true },
    ].sort((x, y) => (x.client_id < y.client_id ? -1 : 1));
    const res = await call(w.t, 'GET', '/admin/keys/clients', { token: w.admin.access });
    expectCaller(res, w.adminId, ['admin']);
    await expectData(res, expected);
  });

  it('no client keys → []', async () => {
    const w = await world();
    await expectData(await call(w.t, 'GET', '/admin/keys/clients', { token: w.admin.access }), []);
  });
});

// ── §5.7 POST /admin/client-key ──────────────────────────────────────────────────────────────

describe('POST /admin/client-key (wire §5.7)', () => {
  const mint = (w: AdminWorld, body: unknown, token = w.admin.access) => call(w.t, 'POST', '/admin/client-key', { token, body });

  it('{} → 200 pair; a UUID v4 key with no permissions, no node_url, its index entry and an open session', async () => {
    const w = await world();
    const res = await mint(w, {});
    expectCaller(res, w.adminId, ['admin']);
    const { access, refresh } = await expectPair(res);
    const a = decodeJwt(access).payload;
    const r = decodeJwt(refresh).payload;
    expect(a.sub).toMatch(UUID_V4);
    expect(r.sub).toBe(a.sub);
    expect(a.permissions).toEqual([]);
    expect('node_url' in a).toBe(false);
    expect(a.token_type).toBe('access');
    const id = a.sub as string;
    expect(await raw(w.t, `client_key:${id}`)).toBe(
      JSON.stringify({
        key_type: 'Client',
        public_key: null,
        auth_method: null,
        root_key_id: w.adminId,
        name: 'Context Client -  ()',
        permissions: [],
        created_at: T0,
        revoked_at: null,
        expires_at: null,
      }),
    );
    expect(await w.t.svc.core.store.has(`idx:root_clients:${w.adminId}:${id}`)).toBe(true);
    expect(await w.t.svc.core.sessions.get(a.sid as string)).toMatchObject({
      key_id: id,
      revoked_at: null,
      expires_at: T0 + 2592000,
    });
  });

  it('the minted token validates, and GET /admin/keys/clients lists the key', async () => {
    const w = await world();
    const { access } = await expectPair(await mint(w, { permissions: ['context:list'] }));
    const id = decodeJwt(access).payload.sub as string;
    const v = await validate(w.t, access);
    expect(v.status).toBe(200);
    expect(v.headers.get('x-auth-user')).toBe(id);
    const list = await dataOf<Array<{ client_id: string; is_valid: boolean; permissions: string[] }>>(
      await call(w.t, 'GET', '/admin/keys/clients', { token: w.admin.access }),
    );
    expect(list).toEqual([expect.objectContaining({ client_id: id, is_valid: true, permissions: ['context:list'] })]);
  });

  it('context binding first, duplicates dropped (permissions.md §11 line 15), name from the sanitised ids', async () => {
    const w = await world();
    const { access } = await expectPair(
      await mint(w, {
        context_id: 'ctx-1',
        context_identity: 'pk-1',
        permissions: ['context:execute', 'context[ctx-1,pk-1]', 'context:execute'],
      }),
    );
    const payload = decodeJwt(access).payload;
    expect(payload.permissions).toEqual(['context[ctx-1,pk-1]', 'context:execute']);
    const key = await w.t.svc.core.keys.getClient(payload.sub as string);
    expect(key?.permissions).toEqual(['context[ctx-1,pk-1]', 'context:execute']);
    expect(key?.name).toBe('Context Client - ctx-1 (pk-1)');
  });

  it('context ids are sanitised identifiers; the binding needs both, the name shows both', async () => {
    const w = await world();
    const one = decodeJwt((await expectPair(await mint(w, { context_id: 'ctx 1.2', context_identity: 'p<k>' }))).access).payload;
    expect(one.permissions).toEqual(['context[ctx12,pk]']);
    const two = decodeJwt((await expectPair(await mint(w, { context_id: 'ctx-1', context_identity: '!!' }))).access).payload;
    expect(two.permissions).toEqual([]);
    expect((await w.t.svc.core.keys.getClient(two.sub as string))?.name).toBe('Context Client - ctx-1 ()');
    const three = decodeJwt((await expectPair(await mint(w, { context_id: null, context_identity: 'pk' }))).access).payload;
    expect(three.permissions).toEqual([]);
  });

  it('target_node_url becomes the key node_url and the node_url claim', async () => {
    const w = await world();
    const { access, refresh } = await expectPair(await mint(w, { target_node_url: 'https://node.example' }));
    const payload = decodeJwt(access).payload;
    expect(payload.node_url).toBe('https://node.example');
    expect(decodeJwt(refresh).payload.node_url).toBe('https://node.example');
    expect((await w.t.svc.core.keys.getClient(payload.sub as string))?.node_url).toBe('https://node.example');
  });

  it('a permission the caller key cannot hand on → 400 with the escaped permission, nothing stored', async () => {
    const w = await world();
    await expectErr(
      await mint(w, { permissions: ['context:list', 'context:subscribe'] }),
      400,
      'Root key does not have permission: context:subscribe',
    );
    await expectErr(
      await mint(w, { permissions: ["<script>alert('x')</script>"] }),
      400,
      'Root key does not have permission: &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;',
    );
    expect(await w.t.svc.core.store.scan('client_key:')).toEqual([]);
    expect(await w.t.svc.core.store.scan('idx:root_clients:')).toEqual([]);
  });

  it('a root key may give its client keys admin; two mints in one second give two keys (§11 line 11)', async () => {
    const w = await world();
    const one = decodeJwt((await expectPair(await mint(w, { permissions: ['admin'] }))).access).payload.sub;
    const two = decodeJwt((await expectPair(await mint(w, { permissions: ['admin'] }))).access).payload.sub;
    expect(one).not.toBe(two);
    const list = await dataOf<Array<{ client_id: string; permissions: string[] }>>(
      await call(w.t, 'GET', '/admin/keys/clients', { token: w.admin.access }),
    );
    expect(list.map((r) => r.client_id).sort()).toEqual([one, two].sort());
    expect(list.every((r) => r.permissions.join() === 'admin')).toBe(true);
  });

  it('a client key holding admin may mint; it becomes the parent', async () => {
    const w = await world();
    const parent = await clientCaller(w.t, w.adminId, ['admin']);
    const res = await mint(w, { permissions: ['context:list'] }, parent.access);
    expectCaller(res, parent.id, ['admin']);
    const { access } = await expectPair(res);
    const id = decodeJwt(access).payload.sub as string;
    expect((await w.t.svc.core.keys.getClient(id))?.root_key_id).toBe(parent.id);
    expect(await w.t.svc.core.store.has(`idx:root_clients:${parent.id}:${id}`)).toBe(true);
  });

  it('without the literal admin among the effective permissions → 403 Token does not have admin permissions', async () => {
    const w = await world();
    for (const perms of [['keys:create'], ['keys'], ['admin:x'], ['admin[y]'], []]) {
      const caller = await clientCaller(w.t, w.adminId, perms);
      const res = await mint(w, {}, caller.access);
      expectCaller(res, caller.id, perms);
      await expectErr(res, 403, 'Token does not have admin permissions');
    }
    // admin in the claim but no longer on the key: not effective.
    const demoted = await clientCaller(w.t, w.adminId, ['admin', 'context:list']);
    await updateKey(w.t, demoted.id, { permissions: ['context:list'] });
    await expectErr(await mint(w, {}, demoted.access), 403, 'Token does not have admin permissions');
  });

  it.each([
    ['a JSON array', '[]'],
    ['a string', '"x"'],
    ['permissions not an array', { permissions: 'admin' }],
    ['a number in permissions', { permissions: ['admin', 1] }],
    ['context_id a number', { context_id: 1 }],
  ])('extraction: %s → 400 Invalid JSON: Failed to deserialize…', async (_name, body) => {
    const w = await world();
    await expectExtraction(await mint(w, body), 400, 'Invalid JSON: Failed to deserialize the JSON body into the target type: ');
  });

  it('extraction: wrong content type and bad JSON → 400 (no 422 rules)', async () => {
    const w = await world();
    const res = await call(w.t, 'POST', '/admin/client-key', {
      token: w.admin.access,
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    await expectExtraction(res, 400, 'Invalid JSON: Expected request with `Content-Type: application/json`', true);
    await expectExtraction(await mint(w, '{'), 400, 'Invalid JSON: Failed to parse the request body as JSON: ');
  });
});

// ── §5.8 DELETE /admin/keys/:key_id/clients/:client_id ───────────────────────────────────────

describe('DELETE /admin/keys/:key_id/clients/:client_id (wire §5.8)', () => {
  const del = (w: AdminWorld, root: string, client: string) =>
    call(w.t, 'DELETE', `/admin/keys/${root}/clients/${client}`, { token: w.admin.access });

  it('200 {message, revoked_at}; the key and its sessions end together; tokens → 403 token_revoked', async () => {
    const w = await world();
    const { access, refresh } = await expectPair(
      await call(w.t, 'POST', '/admin/client-key', { token: w.admin.access, body: { permissions: ['context:list'] } }),
    );
    const id = decodeJwt(access).payload.sub as string;
    w.t.clock.advanceSeconds(3);
    const res = await del(w, w.adminId, id);
    expectCaller(res, w.adminId, ['admin']);
    await expectData(res, { message: 'Client key revoked successfully', revoked_at: T0 + 3 });
    await expectErr(await validate(w.t, access), 403, 'Key has been revoked', 'token_revoked');
    const list = await dataOf<Array<{ client_id: string; revoked_at: number; is_valid: boolean }>>(
      await call(w.t, 'GET', '/admin/keys/clients', { token: w.admin.access }),
    );
    expect(list).toEqual([expect.objectContaining({ client_id: id, revoked_at: T0 + 3, is_valid: false })]);
    w.t.clock.advanceSeconds(1800 + 61);
    const r = await refreshPair(w.t, access, refresh);
    expect({ status: r.status, xae: r.headers.get('x-auth-error') }).toEqual({ status: 403, xae: 'token_revoked' });
    expect(w.t.svc.core.metrics.admin.snapshot().token_revocations).toBe(1);
  });

  it('absent, revoked or expired → 404 Client key not found', async () => {
    const w = await world();
    const revoked = await addClientKey(w.t, w.adminId, ['context:list']);
    await updateKey(w.t, revoked, { revoked_at: T0 });
    const expired = await addClientKey(w.t, w.adminId, ['context:list']);
    await updateKey(w.t, expired, { expires_at: T0 });
    for (const id of ['no-such-client', revoked, expired]) {
      await expectErr(await del(w, w.adminId, id), 404, 'Client key not found');
    }
  });

  it("another root key's client, or a root key id → 400 Client key does not belong to specified root key", async () => {
    const w = await world();
    const bob = await addUser(w.t, 'bob', 'bob password 1');
    const bobs = await addClientKey(w.t, bob, ['context:list']);
    await expectErr(await del(w, w.adminId, bobs), 400, 'Client key does not belong to specified root key');
    await expectErr(await del(w, w.adminId, bob), 400, 'Client key does not belong to specified root key');
    expect((await w.t.svc.core.keys.getClient(bobs))?.revoked_at).toBeNull();
  });

  it('works when the parent is revoked (no parent re-validation on revocation)', async () => {
    const w = await world();
    const bob = await addUser(w.t, 'bob', 'bob password 1');
    const client = await addClientKey(w.t, bob, ['context:list']);
    await updateKey(w.t, bob, { revoked_at: T0 });
    await expectData(await del(w, bob, client), { message: 'Client key revoked successfully', revoked_at: T0 });
  });
});

// ── §5.9 GET /admin/keys/:key_id/permissions ─────────────────────────────────────────────────

describe('GET /admin/keys/:key_id/permissions (wire §5.9)', () => {
  it('a valid root or client key → its list; absent, revoked or expired → 404 Key not found', async () => {
    const w = await world();
    const get = (id: string) => call(w.t, 'GET', `/admin/keys/${id}/permissions`, { token: w.admin.access });
    await expectData(await get(w.adminId), { permissions: ['admin'] });
    const client = await addClientKey(w.t, w.adminId, ['context:list', 'context:execute']);
    await expectData(await get(client), { permissions: ['context:list', 'context:execute'] });
    const revoked = await addClientKey(w.t, w.adminId, ['context:list']);
    await updateKey(w.t, revoked, { revoked_at: T0 });
    const expired = await addUser(w.t, 'e', 'e password 1');
    await updateKey(w.t, expired, { expires_at: T0 });
    for (const id of ['no-such-key', revoked, expired]) await expectErr(await get(id), 404, 'Key not found');
  });

  it('a key may read its own list with the scoped permission (keys:permissions:get[id])', async () => {
    const w = await world();
    const own = await addClientKey(w.t, w.adminId, ['context:list']);
    const perms = [`keys:permissions:get[${own}]`];
    await updateKey(w.t, own, { permissions: perms });
    const { access } = await mintPair(w.t, { sub: own, permissions: perms });
    const res = await call(w.t, 'GET', `/admin/keys/${own}/permissions`, { token: access });
    expectCaller(res, own, perms);
    await expectData(res, { permissions: perms });
  });
});

// ── §5.10 PUT /admin/keys/:key_id/permissions ────────────────────────────────────────────────

describe('PUT /admin/keys/:key_id/permissions (wire §5.10)', () => {
  const put = (w: AdminWorld, id: string, body: unknown) =>
    call(w.t, 'PUT', `/admin/keys/${id}/permissions`, { token: w.admin.access, body });

  it('removes, then appends additions not already present, in order; the new list is stored', async () => {
    const w = await world();
    const id = await addClientKey(w.t, w.adminId, ['context:list', 'context:execute', 'blob']);
    const res = await put(w, id, {
      add: ['namespace', 'context:list', 'group', 'namespace'],
      remove: ['context:execute', 'not-held'],
    });
    expectCaller(res, w.adminId, ['admin']);
    await expectData(res, { permissions: ['context:list', 'blob', 'namespace', 'group'] });
    expect((await w.t.svc.core.keys.getClient(id))?.permissions).toEqual(['context:list', 'blob', 'namespace', 'group']);
  });

  it('entries are sanitised (sanitize_string) and empties dropped; a permissions field is ignored', async () => {
    const w = await world();
    const id = await addClientKey(w.t, w.adminId, ['context:list']);
    await expectData(await put(w, id, { add: ['keys:list\u0000', '\u0001', ''], permissions: ['admin'] }), {
      permissions: ['context:list', 'keys:list'],
    });
    await expectData(await put(w, id, { remove: ['keys:list\n'] }), { permissions: ['context:list'] });
  });

  it('nothing to change → 200 with the current list; {} and nulls are valid', async () => {
    const w = await world();
    const id = await addClientKey(w.t, w.adminId, ['context:list']);
    await expectData(await put(w, id, {}), { permissions: ['context:list'] });
    await expectData(await put(w, id, { add: null, remove: null }), { permissions: ['context:list'] });
    await expectData(await put(w, id, { remove: ['absent'] }), { permissions: ['context:list'] });
  });

  it('an unparseable addition → 400 Invalid permission format: … (permissions.md §11 line 10), key unchanged', async () => {
    const w = await world();
    const id = await addClientKey(w.t, w.adminId, ['context:list']);
    await expectErr(
      await put(w, id, { add: ['context:list', 'not-a-real-permission'] }),
      400,
      'Invalid permission format: Unknown permission category: not-a-real-permission',
    );
    await expectErr(
      await put(w, id, { add: ['context:subscribe'] }),
      400,
      'Invalid permission format: Unknown context action: subscribe',
    );
    expect((await w.t.svc.core.keys.getClient(id))?.permissions).toEqual(['context:list']);
  });

  it('the grant check runs before the lookup: a bad format on an absent key → 400', async () => {
    const w = await world();
    await expectErr(
      await put(w, 'no-such-key', { add: ['bogus'] }),
      400,
      'Invalid permission format: Unknown permission category: bogus',
    );
  });

  it('absent, revoked or expired key → 404 Key not found', async () => {
    const w = await world();
    const revoked = await addClientKey(w.t, w.adminId, ['context:list']);
    await updateKey(w.t, revoked, { revoked_at: T0 });
    const expired = await addClientKey(w.t, w.adminId, ['context:list']);
    await updateKey(w.t, expired, { expires_at: T0 });
    for (const id of ['no-such-key', revoked, expired]) {
      await expectErr(await put(w, id, { add: ['context:list'] }), 404, 'Key not found');
    }
  });

  it('removing everything → 400 Key must have at least one permission', async () => {
    const w = await world();
    const id = await addClientKey(w.t, w.adminId, ['context:list']);
    await expectErr(await put(w, id, { remove: ['context:list'] }), 400, 'Key must have at least one permission');
    expect((await w.t.svc.core.keys.getClient(id))?.permissions).toEqual(['context:list']);
  });

  it('a client key: the parent must grant the new list → 400 Root key does not have permission: <p>', async () => {
    const w = await world();
    const bob = await addUser(w.t, 'bob', 'bob password 1', { permissions: ['context:list', 'context:create'] });
    const client = await addClientKey(w.t, bob, ['context:list']);
    await expectErr(
      await put(w, client, { add: ['context:create', 'context:execute'] }),
      400,
      'Root key does not have permission: context:execute',
    );
    await expectData(await put(w, client, { add: ['context:create'] }), { permissions: ['context:list', 'context:create'] });
    // A root key implicitly holds admin: it may hand it on.
    await expectData(await put(w, client, { add: ['admin'] }), { permissions: ['context:list', 'context:create', 'admin'] });
  });

  it('a client key whose parent is revoked or missing → 500 Failed to update key permissions', async () => {
    const w = await world();
    const bob = await addUser(w.t, 'bob', 'bob password 1');
    const client = await addClientKey(w.t, bob, ['context:list']);
    await updateKey(w.t, bob, { revoked_at: T0 });
    await expectErr(await put(w, client, { add: ['context:execute'] }), 500, 'Failed to update key permissions');
    const orphan = await addClientKey(w.t, 'no-such-root', ['context:list']);
    await expectErr(await put(w, orphan, { remove: ['x'], add: ['context:execute'] }), 500, 'Failed to update key permissions');
    // Nothing to save → no parent check, 200.
    await expectData(await put(w, orphan, {}), { permissions: ['context:list'] });
  });

  it('a root key may be edited too (admin can be removed while another permission remains)', async () => {
    const w = await world();
    const bob = await addUser(w.t, 'bob', 'bob password 1');
    await expectData(await put(w, bob, { add: ['keys:list'], remove: ['admin'] }), { permissions: ['keys:list'] });
  });

  it('a removal takes effect on live tokens at once; an addition only with the next pair', async () => {
    const w = await world();
    const caller = await clientCaller(w.t, w.adminId, ['keys:list', 'context:list']);
    expect((await call(w.t, 'GET', '/admin/keys', { token: caller.access })).status).toBe(200);
    await expectData(await put(w, caller.id, { remove: ['keys:list'] }), { permissions: ['context:list'] });
    const denied = await call(w.t, 'GET', '/admin/keys', { token: caller.access });
    expect({ status: denied.status, xae: denied.headers.get('x-auth-error') }).toEqual({ status: 403, xae: 'permission_denied' });
    // Added back, it is effective again: the claim still names it.
    await expectData(await put(w, caller.id, { add: ['keys:list'] }), { permissions: ['context:list', 'keys:list'] });
    expect((await call(w.t, 'GET', '/admin/keys', { token: caller.access })).status).toBe(200);
    // A permission the claim never named is not granted to this token.
    await expectData(await put(w, caller.id, { add: ['keys:clients:list'] }), {
      permissions: ['context:list', 'keys:list', 'keys:clients:list'],
    });
    const notYet = await call(w.t, 'GET', '/admin/keys/clients', { token: caller.access });
    expect({ status: notYet.status, xae: notYet.headers.get('x-auth-error') }).toEqual({ status: 403, xae: 'permission_denied' });
  });

  it.each([
    ['add not an array', { add: 'admin' }],
    ['a number in remove', { remove: [1] }],
    ['a JSON array', '[]'],
  ])('extraction: %s → 400 (no 422 rules)', async (_name, body) => {
    const w = await world();
    await expectExtraction(
      await put(w, w.adminId, body),
      400,
      'Invalid JSON: Failed to deserialize the JSON body into the target type: ',
    );
  });

  it('grant check at the domain level (permissions.md §11.1 lines 1–8)', async () => {
    const w = await world();
    const id = await addClientKey(w.t, w.adminId, ['context:list']);
    const EXCEED = 'Cannot grant permissions that exceed your own';
    const cases: Array<[string[], string[], string | null]> = [
      [['keys:permissions:update'], ['admin'], EXCEED],
      [['keys:permissions:update', 'keys:list'], ['keys:create'], EXCEED],
      [['admin'], ['admin', 'keys:create', 'context:execute'], null],
      [['keys:permissions:update', 'keys:create', 'keys:list'], ['keys:create', 'keys:list'], null],
      [['context:list'], ['context:list[ctx-1]'], null],
      [['context:list[ctx-1]'], ['context:list'], EXCEED],
      [['keys:permissions:update'], [], null],
    ];
    for (const [caller, add, refusal] of cases) {
      const run = updateKeyPermissions(w.t.svc.core, caller, id, { add });
      if (refusal === null) await expect(run).resolves.toBeInstanceOf(Array);
      else await expect(run).rejects.toMatchObject({ code: 'forbidden', message: refusal });
    }
  });
});

// ── §5.11 GET /admin/identity, §5.12 GET /admin/metrics ──────────────────────────────────────

describe('GET /admin/identity (wire §5.11)', () => {
  const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;

  it('the service identity with our package version and the enabled providers', async () => {
    const w = await world();
    const res = await call(w.t, 'GET', '/admin/identity', { token: w.admin.access });
    expectCaller(res, w.adminId, ['admin']);
    await expectData(res, {
      service: 'calimero-auth',
      version,
      authentication_mode: 'forward',
      providers: ['user_password'],
    });
  });

  it('providers is [] when none is enabled', async () => {
    const t = await makeTestService({ providers: { user_password: false } });
    try {
      // Login is impossible without the provider: mint the admin's pair directly.
      const { access } = await mintPair(t);
      await expectData(await call(t, 'GET', '/admin/identity', { token: access }), {
        service: 'calimero-auth',
        version,
        authentication_mode: 'forward',
        providers: [],
      });
    } finally {
      await t.close();
    }
  });
});

describe('GET /admin/metrics (wire §5.12)', () => {
  it('all zero on a fresh service apart from the login the test made', async () => {
    const w = await world();
    const data = await dataOf<Record<string, unknown>>(await call(w.t, 'GET', '/admin/metrics', { token: w.admin.access }));
    expect(Object.keys(data).sort()).toEqual(
      [
        'auth_attempts',
        'auth_successes',
        'auth_failures',
        'auth_success_rate',
        'auth_avg_duration_ms',
        'auth_failures_by_type',
        'token_refreshes',
        'token_revocations',
      ].sort(),
    );
    expect(data).toMatchObject({
      auth_attempts: 1,
      auth_successes: 1,
      auth_failures: 0,
      auth_success_rate: 100,
      auth_failures_by_type: {},
      token_refreshes: 0,
      token_revocations: 0,
    });
  });

  it('counts the logins, the failure, the refresh and the revocation the test made', async () => {
    const w = await world();
    expect((await w.t.login({ password: 'wrong password!' })).res.status).toBe(401);
    w.t.clock.advanceSeconds(1800 + 61);
    const fresh = await expectPair(await refreshPair(w.t, w.admin.access, w.admin.refresh));
    const victim = await addClientKey(w.t, w.adminId, ['context:list']);
    await expectData(await call(w.t, 'POST', '/admin/revoke', { token: fresh.access, body: { client_id: victim } }), {
      success: true,
      message: 'Tokens revoked successfully',
    });
    const res = await call(w.t, 'GET', '/admin/metrics', { token: fresh.access });
    expectCaller(res, w.adminId, ['admin']);
    const data = await dataOf<Record<string, number>>(res);
    expect(data).toMatchObject({
      auth_attempts: 2,
      auth_successes: 1,
      auth_failures: 1,
      auth_success_rate: 50,
      auth_failures_by_type: { invalid_credentials: 1 },
      token_refreshes: 1,
      token_revocations: 1,
    });
    expect(Number.isInteger(data.auth_avg_duration_ms) && (data.auth_avg_duration_ms ?? -1) >= 0).toBe(true);
    expect(nowSeconds(w.t.clock)).toBe(T0 + 1861);
  });
});

describe('handler errors keep the envelope and never an X-Auth-Error', () => {
  it('500s from the domain layer are envelopes with the caller headers', async () => {
    const w = await world();
    const bob = await addUser(w.t, 'bob', 'bob password 1');
    const client = await addClientKey(w.t, bob, ['context:list']);
    await updateKey(w.t, bob, { revoked_at: T0 });
    const res = await call(w.t, 'PUT', `/admin/keys/${client}/permissions`, { token: w.admin.access, body: { add: ['blob'] } });
    expectCaller(res, w.adminId, ['admin']);
    await expectErrPrefix(res, 500, 'Failed to update key permissions');
  });
});

describe('over a real socket (@hono/node-server writes the answer)', () => {
  it('caller headers set after the handler reach the wire; rejections stay empty; encoded paths stay 404', async () => {
    const { closeServer, listen } = await import('../../src/server.js');
    const { request: httpRequest } = await import('node:http');
    const w = await world();
    const server = await listen(w.t.app, '127.0.0.1:0');
    const send = (method: string, path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: server.address.port, method, path, headers }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      const auth = { authorization: `Bearer ${w.admin.access}`, host: 'localhost:3001' };
      const ok = await send('GET', '/admin/metrics', auth);
      expect(ok.status).toBe(200);
      expect(ok.headers['x-auth-user']).toBe(w.adminId);
      expect(ok.headers['x-auth-permissions']).toBe('admin');
      expect(ok.headers['x-frame-options']).toBe('DENY');

      const wrong = await send('POST', '/admin/metrics', auth);
      expect({ status: wrong.status, allow: wrong.headers.allow, user: wrong.headers['x-auth-user'], body: wrong.body }).toEqual({
        status: 405,
        allow: 'GET,HEAD',
        user: w.adminId,
        body: '',
      });

      const missing = await send('GET', '/admin/keys', { host: 'localhost:3001' });
      expect({ status: missing.status, xae: missing.headers['x-auth-error'], body: missing.body }).toEqual({
        status: 400,
        xae: 'invalid_request',
        body: '',
      });

      // Routed on the raw path: an encoded static segment is the :key_id route, never the listing.
      const encoded = await send('GET', '/admin/keys/client%73', auth);
      expect({ status: encoded.status, allow: encoded.headers.allow, body: encoded.body }).toEqual({
        status: 405,
        allow: 'DELETE',
        body: '',
      });
    } finally {
      await closeServer(server.server, 1000);
    }
  });
});
