/**
 * A model-based differential test of the validate lane (src/http/validate-lane.ts) against the
 * app: random sequences of logins, client keys, validations, key and session revocations,
 * permission changes, clock moves and header variants. After every step, each request is sent
 * over real sockets to a listener without the lane and to one with it; the two answers must be
 * identical (the lane either answers exactly as the app would, or leaves the request to the app).
 * Both run the one decision of src/auth/validate.ts; this pins that no rule reaches only one.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { edgeOptions } from '../../src/http/app.js';
import { validateLane } from '../../src/http/validate-lane.js';
import { closeServer, listen, type Listening } from '../../src/server.js';
import { addClientKey, adminKeyId, mintPair, updateKey } from '../helpers/http.js';
import { sendRaw } from '../helpers/raw-http.js';
import { makeTestService, type TestService } from '../helpers/service.js';

const PERMISSIONS = ['admin', 'context:list', 'context:execute', 'keys:list'] as const;
const NODE_URLS = [undefined, 'http://node-a.example:2428'] as const;
const HOSTS = ['localhost', 'node-a.example', 'node-b.example', 'LOCALHOST', 'localhost:80', 'a.1.2.3.999'] as const;
const FORWARDED_HOSTS = [undefined, 'node-a.example', 'node-b.example'] as const;
const ROUTES = [
  undefined,
  ['GET', '/admin-api/contexts'],
  ['POST', '/admin-api/namespaces'],
  ['POST', '/jsonrpc'],
  ['GET', '/ws'],
  ['GET', '/admin-api/../admin-api/contexts'],
] as const;

type Action =
  | { kind: 'login' }
  | { kind: 'client'; perms: number[]; nodeUrl: number }
  | { kind: 'validate'; token: number; via: 'header' | 'query' | 'both'; host: number; fwdHost: number; route: number }
  | { kind: 'revokeKey'; token: number }
  | { kind: 'revokeRootQuietly' }
  | { kind: 'logout'; token: number }
  | { kind: 'dropPermission'; token: number; perm: number }
  | { kind: 'clock'; seconds: number };

const index = fc.nat({ max: 31 });
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'login' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('client' as const),
      perms: fc.uniqueArray(fc.nat({ max: PERMISSIONS.length - 1 }), { maxLength: 3 }),
      nodeUrl: fc.nat({ max: NODE_URLS.length - 1 }),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('validate' as const),
      token: index,
      via: fc.constantFrom('header' as const, 'query' as const, 'both' as const),
      host: fc.nat({ max: HOSTS.length - 1 }),
      fwdHost: fc.nat({ max: FORWARDED_HOSTS.length - 1 }),
      route: fc.nat({ max: ROUTES.length - 1 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revokeKey' as const), token: index }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'revokeRootQuietly' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('logout' as const), token: index }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('dropPermission' as const),
      token: index,
      perm: fc.nat({ max: PERMISSIONS.length - 1 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clock' as const), seconds: fc.constantFrom(1, 60, 1800, 1861, 7200) }) },
);

interface Token {
  access: string;
  refresh: string;
  sub: string;
}

interface World {
  t: TestService;
  appOnly: Listening;
  withLane: Listening;
  served: () => number;
  tokens: Token[];
}

async function world(): Promise<World> {
  const t = await makeTestService();
  const lane = validateLane(t.svc, edgeOptions(t.svc));
  let served = 0;
  const withLane = await listen(t.app, '127.0.0.1:0', {
    lane: (req, res) => {
      const answered = lane(req, res);
      if (answered) served++;
      return answered;
    },
  });
  const appOnly = await listen(t.app, '127.0.0.1:0');
  const admin = await t.login();
  return {
    t,
    appOnly,
    withLane,
    served: () => served,
    tokens: [{ access: admin.access, refresh: admin.refresh, sub: await adminKeyId(t) }],
  };
}

const pick = <T>(list: readonly T[], i: number): T => list[i % list.length] as T;

async function answer(port: number, head: string[]) {
  const { status, headers, body } = await sendRaw(port, head);
  const { date: _date, ...rest } = headers;
  return { status, headers: rest, body };
}

async function step(w: World, a: Action): Promise<void> {
  const { t } = w;
  switch (a.kind) {
    case 'login': {
      const pair = await t.login();
      w.tokens.push({ access: pair.access, refresh: pair.refresh, sub: await adminKeyId(t) });
      return;
    }
    case 'client': {
      const parent = pick(w.tokens, w.tokens.length - 1).sub;
      const perms = a.perms.map((p) => pick(PERMISSIONS, p));
      const id = await addClientKey(t, parent, perms);
      const nodeUrl = pick(NODE_URLS, a.nodeUrl);
      w.tokens.push({
        ...(await mintPair(t, { sub: id, permissions: perms, ...(nodeUrl === undefined ? {} : { nodeUrl }) })),
        sub: id,
      });
      return;
    }
    case 'revokeKey': {
      const { sub } = pick(w.tokens, a.token);
      const key = await t.svc.core.keys.get(sub);
      if (key === undefined || key.revoked_at !== null) return;
      // Through the route, with the cascade, unless it is the last admin (then refused: fine too).
      await t.post(
        '/admin/revoke',
        { client_id: sub },
        { host: 'localhost:3001', authorization: `Bearer ${pick(w.tokens, 0).access}` },
      );
      return;
    }
    case 'revokeRootQuietly': {
      // A root key revoked without the cascade (data from before it): the chain must still hold.
      const sub = await adminKeyId(t);
      await updateKey(t, sub, { revoked_at: 1 });
      return;
    }
    case 'logout':
      await t.post('/auth/logout', { refresh_token: pick(w.tokens, a.token).refresh });
      return;
    case 'dropPermission': {
      const { sub } = pick(w.tokens, a.token);
      const key = await t.svc.core.keys.get(sub);
      if (key === undefined) return;
      const drop = pick(PERMISSIONS, a.perm);
      await updateKey(t, sub, { permissions: key.permissions.filter((p) => p !== drop) });
      return;
    }
    case 'clock':
      t.clock.advanceSeconds(a.seconds);
      return;
    case 'validate': {
      const token = pick(w.tokens, a.token).access;
      const route = pick(ROUTES, a.route);
      const fwdHost = pick(FORWARDED_HOSTS, a.fwdHost);
      const head = ['GET /auth/validate HTTP/1.1', `Host: ${pick(HOSTS, a.host)}`];
      if (a.via !== 'query') head.push(`Authorization: Bearer ${token}`);
      if (a.via !== 'header') head.push(`X-Forwarded-Uri: ${route?.[1] ?? '/ws'}?token=${token}`);
      else if (route !== undefined) head.push(`X-Forwarded-Uri: ${route[1]}`);
      if (route !== undefined) head.push(`X-Forwarded-Method: ${route[0]}`);
      if (fwdHost !== undefined) head.push(`X-Forwarded-Host: ${fwdHost}`);
      // The app first: whatever it looks up is then in the caches the lane reads.
      const app = await answer(w.appOnly.address.port, head);
      const lane = await answer(w.withLane.address.port, head);
      expect(lane, head.join('\n')).toEqual(app);
      return;
    }
  }
}

describe('Validate lane ≡ app on random histories (fast-check, issue 11)', () => {
  const worlds: World[] = [];
  afterAll(async () => {
    for (const w of worlds.splice(0)) {
      await closeServer(w.withLane.server, 1000);
      await closeServer(w.appOnly.server, 1000);
      await w.t.close();
    }
  });

  it('every validation gets the same answer from the lane as from the app, and the lane serves some', async () => {
    let servedTotal = 0;
    let validations = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 30 }), async (actions) => {
        const w = await world();
        worlds.push(w);
        for (const a of actions) {
          if (a.kind === 'validate') validations++;
          await step(w, a);
        }
        servedTotal += w.served();
      }),
      { numRuns: 25, seed: Number(process.env.FC_SEED ?? 20261205) },
    );
    // Not a vacuous pass: the lane answered part of the traffic itself.
    expect(validations).toBeGreaterThan(100);
    expect(servedTotal).toBeGreaterThan(10);
  });
});
