/**
 * Offline verification for node servers (issue 12 item 1): `auth.verifyAccessToken(token)` in
 * process, and `createRemoteVerifier(jwksUrl)` for a node server running separately.
 */
import { createHmac } from 'node:crypto';
import { Hono } from 'hono';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuth, createRemoteVerifier, type Auth, type AuthConfigInput } from '../../src/index.js';
import { closeServer, listen, type Listening } from '../../src/server.js';
import { ADMIN, FAST_ARGON2 } from './clients.js';

const silent = pino({ level: 'silent' });
const ADMIN_ENV = { MERO_AUTH_ADMIN_USER: ADMIN.username, MERO_AUTH_ADMIN_PASSWORD: ADMIN.password };
const open: Auth[] = [];
const servers: Listening[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => closeServer(s.server, 1_000)));
  await Promise.all(open.map((a) => a.close()));
});

async function start(config: AuthConfigInput = {}): Promise<Auth> {
  const auth = await createAuth(
    { storage: { type: 'memory' }, ...config, user_password: { argon2: FAST_ARGON2 } },
    { logger: silent, env: ADMIN_ENV },
  );
  open.push(auth);
  return auth;
}

async function login(auth: Auth): Promise<string> {
  const res = await auth.fetch(
    new Request('http://node.local/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json', host: 'node.local' },
      body: JSON.stringify({
        auth_method: 'user_password',
        public_key: ADMIN.username,
        client_name: 'mero-js-sdk',
        timestamp: 0,
        permissions: ['admin'],
        provider_data: { username: ADMIN.username, password: ADMIN.password },
      }),
    }),
  );
  const json = (await res.json()) as { data: { access_token: string; refresh_token: string } };
  lastRefresh = json.data.refresh_token;
  return json.data.access_token;
}
let lastRefresh = '';
const refreshOf = async (auth: Auth): Promise<string> => {
  await login(auth);
  return lastRefresh;
};

const tamper = (token: string): string => {
  const [h, p, s = ''] = token.split('.');
  return `${h}.${p}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`;
};

describe('createAuth: verifyAccessToken (offline, in process)', () => {
  it.each(['HS256', 'EdDSA', 'ES256'] as const)(
    '%s: resolves the claims of an access token; refuses a tampered one or a refresh token',
    async (alg) => {
      const auth = await start({ jwt: { algorithm: alg } });
      const access = await login(auth);
      const claims = await auth.verifyAccessToken(access);
      expect(claims).toMatchObject({ iss: 'calimero-auth', aud: 'calimero-auth', token_type: 'access', permissions: ['admin'] });
      await expect(auth.verifyAccessToken(tamper(access))).rejects.toThrow('Invalid token: InvalidSignature');
      await expect(auth.verifyAccessToken('not.a.token')).rejects.toThrow(/^Invalid token/);
      await expect(auth.verifyAccessToken(lastRefresh)).rejects.toThrow('Wrong token type: expected Access, got Refresh');
    },
  );
});

describe('createRemoteVerifier (a node server in another process, over GET /auth/jwks.json)', () => {
  it.each(['EdDSA', 'ES256'] as const)(
    '%s: verifies access tokens with the published keys alone; refuses forgeries',
    async (alg) => {
      const auth = await start({ jwt: { algorithm: alg } });
      const node = new Hono();
      node.route('/', auth.app);
      const served = await listen(node, '127.0.0.1:0');
      servers.push(served);
      const verify = createRemoteVerifier(`http://127.0.0.1:${served.address.port}/auth/jwks.json`, { algorithms: [alg] });
      const access = await login(auth);
      expect(await verify(access)).toMatchObject({ token_type: 'access', permissions: ['admin'] });
      await expect(verify(tamper(access))).rejects.toThrow();
      // An HS256 token HMAC'd with the published key is refused: the algorithm is pinned.
      const { keys } = (await (await fetch(`http://127.0.0.1:${served.address.port}/auth/jwks.json`)).json()) as {
        keys: Array<{ x: string; kid: string }>;
      };
      const [, payload] = access.split('.');
      const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: keys[0]?.kid })).toString('base64url');
      const mac = createHmac('sha256', Buffer.from(keys[0]?.x ?? '', 'base64url'))
        .update(`${header}.${payload}`)
        .digest('base64url');
      await expect(verify(`${header}.${payload}.${mac}`)).rejects.toThrow();
      // A refresh token is not an access token.
      await expect(verify(await refreshOf(auth))).rejects.toThrow('not an access token');
    },
  );
});
