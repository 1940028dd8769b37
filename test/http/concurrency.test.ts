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

  it('more simultaneous logins of one identity than the budget: the extras wait out as 429, no lockout stays', async () => {
    const t = await makeTestService({}, { hashPool: { slots: 4, queue: 64 } });
    try {
      // In flight counts as a possible failure, so at most 5 are checked at once; successes then
      // withdraw their reservation and reset the identity bucket.
      const results = await Promise.all(Array.from({ length: 8 }, () => t.login()));
      const statuses = results.map((r) => r.res.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(3);
      expect((await t.login()).res.status).toBe(200);
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
