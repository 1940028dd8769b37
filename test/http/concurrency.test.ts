import { describe, expect, it } from 'vitest';
import { provision } from '../../src/auth/provision.js';
import { ADMIN, makeTestService } from '../helpers/service.js';

/** Attacks that only work when requests overlap (found in review; each failed before its fix). */
describe('Security: parallel guessing against the login rate limit (§8.1)', () => {
  it('attempts still being hashed count against the budget: a burst gets 5 tries, not 60', async () => {
    const t = await makeTestService({}, { hashPool: { slots: 4, queue: 64 } });
    try {
      const wrong = Array.from({ length: 59 }, () => t.login({ password: 'wrong password!' }));
      const right = t.login(); // the right password, inside the burst
      const results = await Promise.all([...wrong, right]);
      const statuses = results.map((r) => r.res.status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(55);
      expect((await right).res.status).toBe(429);
    } finally {
      await t.close();
    }
  });

  it('more simultaneous logins of one identity than the budget all succeed: the extras wait, none is refused', async () => {
    const t = await makeTestService({}, { hashPool: { slots: 4, queue: 64 } });
    try {
      const results = await Promise.all(Array.from({ length: 12 }, () => t.login()));
      expect(results.map((r) => r.res.status)).toEqual(Array(12).fill(200));
      expect((await t.login()).res.status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('a burst from one address with rotating public keys gets its 20 address tries, not more', async () => {
    const t = await makeTestService({}, { hashPool: { slots: 4, queue: 64 } });
    try {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          t.post('/auth/token', {
            auth_method: 'user_password',
            public_key: `rotating-${i}`,
            client_name: 'mero-js-sdk',
            timestamp: 1,
            provider_data: { username: ADMIN.username, password: 'wrong password!' },
          }),
        ),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(20);
      expect(statuses.filter((s) => s === 429)).toHaveLength(20);
    } finally {
      await t.close();
    }
  });
});

describe('Security: logins racing a password change (§7.1 step 4)', () => {
  it('no session opened with the old password survives the change', async () => {
    const t = await makeTestService({}, { hashPool: { slots: 4, queue: 64 } });
    try {
      const sessions: string[] = [];
      let done = false;
      const change = provision(t.svc.core, ADMIN.username, 'the new password 42', { wait: true }).finally(() => {
        done = true;
      });
      const hammer = (async () => {
        while (!done) {
          const r = await t.login();
          if (r.res.status === 200) sessions.push(r.access);
        }
      })();
      await Promise.all([change, hammer]);
      for (const access of sessions) {
        const res = await t.request('/auth/validate', { headers: { authorization: `Bearer ${access}`, host: 'localhost' } });
        expect(res.status).toBe(403);
        expect(res.headers.get('x-auth-error')).toBe('token_revoked');
      }
      expect((await t.login()).res.status).toBe(401);
      expect((await t.login({ password: 'the new password 42' })).res.status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('Security: authority flows down the minting chain (permissions §9, wire §7.1)', () => {
  const H = { host: 'localhost' };
  async function mint(t: Awaited<ReturnType<typeof makeTestService>>, bearer: string, permissions: string[]) {
    const res = await t.post('/admin/client-key', { permissions }, { ...H, authorization: `Bearer ${bearer}` });
    const json = (await res.json()) as { data: { access_token: string; refresh_token: string } | null; error: string | null };
    return { status: res.status, json };
  }
  const validate = (t: Awaited<ReturnType<typeof makeTestService>>, access: string) =>
    t.request('/auth/validate', { headers: { ...H, authorization: `Bearer ${access}` } });

  it('a password change revokes client keys minted by client keys, not only the direct ones', async () => {
    const t = await makeTestService();
    try {
      const root = await t.login();
      const a = await mint(t, root.access, ['admin']);
      expect(a.status).toBe(200);
      const b = await mint(t, a.json.data?.access_token ?? '', ['admin']);
      expect(b.status).toBe(200);
      await provision(t.svc.core, ADMIN.username, 'the new password 42', { wait: true });
      for (const pair of [a.json.data, b.json.data]) {
        const res = await validate(t, pair?.access_token ?? '');
        expect(res.status).toBe(403);
        expect(res.headers.get('x-auth-error')).toBe('token_revoked');
      }
    } finally {
      await t.close();
    }
  });

  it('once a key above it is revoked, a grandchild cannot refresh and its parent cannot mint', async () => {
    const t = await makeTestService();
    try {
      const root = await t.login();
      const a = await mint(t, root.access, ['admin']);
      const c = await mint(t, a.json.data?.access_token ?? '', ['context:list']);
      expect(c.status).toBe(200);
      const rootId = (await t.svc.core.users.get(ADMIN.username))?.key_id ?? '';
      // A second admin account, so the first one may be revoked (never the last, issue 10 item 2).
      await provision(t.svc.core, 'bob', 'bob password 1234', { wait: true });
      // Revoke the root key: A and C go with it (issue 10 item 1), at once…
      const revoke = await t.post('/admin/revoke', { client_id: rootId }, { ...H, authorization: `Bearer ${root.access}` });
      expect(revoke.status).toBe(200);
      expect(((await revoke.json()) as { data: { success: boolean } }).data.success).toBe(true);
      for (const pair of [a, c]) {
        const res = await validate(t, pair.json.data?.access_token ?? '');
        expect({ status: res.status, xae: res.headers.get('x-auth-error') }).toEqual({ status: 403, xae: 'token_revoked' });
      }
      // …so A can no longer hand out authority,
      const late = await t.post(
        '/admin/client-key',
        { permissions: ['context:list'] },
        { ...H, authorization: `Bearer ${a.json.data?.access_token}` },
      );
      expect({ status: late.status, xae: late.headers.get('x-auth-error') }).toEqual({ status: 403, xae: 'token_revoked' });
      // and C's family cannot be refreshed.
      t.clock.advanceSeconds(t.svc.config.jwt.access_token_expiry + t.svc.config.jwt.leeway_seconds + 1);
      const refresh = await t.post(
        '/auth/refresh',
        { access_token: c.json.data?.access_token, refresh_token: c.json.data?.refresh_token },
        H,
      );
      expect(refresh.status).toBe(403);
      expect(refresh.headers.get('x-auth-error')).toBe('token_revoked');
      expect(((await refresh.json()) as { error: string }).error).toBe('Key has been revoked');
    } finally {
      await t.close();
    }
  });

  it('a mint racing a password change never leaves a live key behind', async () => {
    const t = await makeTestService();
    try {
      const root = await t.login();
      const change = provision(t.svc.core, ADMIN.username, 'the new password 42', { wait: true });
      const minted = await mint(t, root.access, ['admin']);
      await change;
      if (minted.status === 200) {
        const res = await validate(t, minted.json.data?.access_token ?? '');
        expect(res.status).toBe(403);
      } else {
        expect(minted.status).toBe(401);
        expect(minted.json.error).toBe('Invalid token');
      }
    } finally {
      await t.close();
    }
  });
});
