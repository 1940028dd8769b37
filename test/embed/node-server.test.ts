/**
 * The reference node (examples/node-server) in `--auth-mode embedded`, over real sockets: one
 * process serves the login, `/admin/*` and the guarded node routes, WebSocket and SSE included
 * (issue 4 acceptance, "Embedded").
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, type RunningNode } from '../../examples/node-server/node.js';
import { createAuth } from '../../src/index.js';
import { cliPath } from '../e2e/process.js';
import {
  ADMIN,
  bearer,
  expectBare,
  FAST_ARGON2,
  login,
  mintClient,
  openWs,
  revokeKey,
  rpc,
  SseStream,
  sseSubscribe,
  wsSubscribe,
  type Pair,
} from './clients.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let running: RunningNode;
let base: string;
let root: Pair;
let reader: Pair & { keyId: string }; // [context:list]
let executor: Pair & { keyId: string }; // [context:list, context:execute]

beforeAll(async () => {
  const auth = await createAuth(
    { storage: { type: 'memory' }, user_password: { argon2: FAST_ARGON2 } },
    {
      logger: pino({ level: 'silent' }),
      env: { MERO_AUTH_ADMIN_USER: ADMIN.username, MERO_AUTH_ADMIN_PASSWORD: ADMIN.password },
    },
  );
  running = await startNode({ authMode: 'embedded', auth });
  base = running.url;
  root = await login(base);
  reader = await mintClient(base, root.access, ['context:list']);
  executor = await mintClient(base, root.access, ['context:list', 'context:execute']);
});
afterAll(() => running?.close());

describe('Reference node, embedded: one process, one port', () => {
  it('serves the login UI, /auth/* and /admin/* beside the node routes', async () => {
    expect((await fetch(`${base}/auth/login`)).status).toBe(200);
    expect((await fetch(`${base}/auth/health`)).status).toBe(200);
    const identity = await fetch(`${base}/admin/identity`, { headers: bearer(root.access) });
    expect(identity.status).toBe(200);
    expect(((await identity.json()) as { data: { service: string } }).data.service).toBe('calimero-auth');
    expect((await fetch(`${base}/admin-api/health`)).status).toBe(200);
    expect((await fetch(`${base}/admin-api/is-authed`)).status).toBe(200);
  });

  it('a [context:list] client token reads GET /admin-api/contexts and is 403 permission_denied on POST /admin-api/namespaces', async () => {
    const list = await fetch(`${base}/admin-api/contexts`, { headers: bearer(reader.access) });
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ data: { contexts: expect.any(Array) } });
    await expectBare(
      await fetch(`${base}/admin-api/namespaces`, { method: 'POST', headers: bearer(reader.access) }),
      403,
      'permission_denied',
    );
    await expectBare(await rpc(base, reader.access, 'query'), 403, 'permission_denied');
  });

  it('no token on GET /admin-api/contexts is a bare 401: the Python client reads "auth required"', async () => {
    const res = await fetch(`${base}/admin-api/contexts`);
    expect(res.headers.get('content-length')).toBe('0');
    await expectBare(res, 401, null);
  });

  it('POST /jsonrpc "query" answers with the verified identity', async () => {
    const res = await rpc(base, executor.access, 'query');
    expect(res.status).toBe(200);
    const json = (await res.json()) as { result: { identity: Record<string, unknown> } };
    expect(json.result.identity).toMatchObject({
      keyId: executor.keyId,
      permissions: ['context:list', 'context:execute'],
      publicKey: null,
    });
  });

  it('an admin root token reaches every route, and the handlers see the account', async () => {
    expect((await fetch(`${base}/admin-api/namespaces`, { method: 'POST', headers: bearer(root.access) })).status).toBe(200);
    const json = (await (await rpc(base, root.access, 'query')).json()) as { result: { identity: { publicKey: string } } };
    expect(json.result.identity.publicKey).toBe(ADMIN.username);
  });

  it('a revoked key is 403 token_revoked on the node routes', async () => {
    const doomed = await mintClient(base, root.access, ['context:list']);
    expect((await fetch(`${base}/admin-api/contexts`, { headers: bearer(doomed.access) })).status).toBe(200);
    await revokeKey(base, root.access, doomed.keyId);
    await expectBare(await fetch(`${base}/admin-api/contexts`, { headers: bearer(doomed.access) }), 403, 'token_revoked');
    // And the query-token path too (WebSocket clients).
    const ws = await openWs(`${base.replace('http', 'ws')}/ws?token=${doomed.access}`);
    expect(ws.open).toBe(false);
    if (!ws.open) expect([ws.status, ws.headers['x-auth-error']]).toEqual([403, 'token_revoked']);
  });

  it('a WebSocket upgrade with ?token= connects and receives the events of the contexts it subscribed to; without it, it is refused', async () => {
    const wsBase = base.replace('http', 'ws');
    const refused = await openWs(`${wsBase}/ws`);
    expect(refused.open).toBe(false);
    if (!refused.open) expect([refused.status, refused.headers['x-auth-error']]).toEqual([401, undefined]);

    const ok = await openWs(`${wsBase}/ws?token=${encodeURIComponent(reader.access)}`);
    expect(ok.open).toBe(true);
    if (!ok.open) return;
    try {
      expect(await wsSubscribe(ok.ws, ok.messages, ['ctx-ws'])).toEqual({ id: 7, result: { contextIds: ['ctx-ws'] } });
      const mutate = await rpc(base, executor.access, 'mutate', { contextId: 'ctx-ws', data: { n: 1 } });
      expect(((await mutate.json()) as { result: { delivered: number } }).result.delivered).toBe(1);
      expect(await ok.messages.next()).toEqual({
        id: null,
        result: { contextId: 'ctx-ws', type: 'StateMutation', data: { n: 1 } },
      });
      // Another context's events do not arrive.
      await rpc(base, executor.access, 'mutate', { contextId: 'ctx-other', data: 2 });
      await rpc(base, executor.access, 'mutate', { contextId: 'ctx-ws', data: 3 });
      expect(await ok.messages.next()).toMatchObject({ result: { contextId: 'ctx-ws', data: 3 } });
    } finally {
      ok.ws.close();
    }
  });

  it('the SSE stream delivers "connect" with a connection id, then an event for a subscribed context', async () => {
    const sse = await SseStream.open(`${base}/sse`, bearer(reader.access));
    try {
      expect(sse.response.status).toBe(200);
      expect(sse.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const connect = await sse.next();
      expect(connect.event).toBe('connect');
      const id = connect.data;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const sub = await sseSubscribe(base, bearer(reader.access), id, ['ctx-sse']);
      expect(await sub.json()).toEqual({ body: { result: { contextIds: ['ctx-sse'] } } });
      // Another caller cannot steer this connection.
      expect((await sseSubscribe(base, bearer(executor.access), id, ['ctx-x'])).status).toBe(404);
      await rpc(base, executor.access, 'mutate', { contextId: 'ctx-sse', data: 'hello' });
      const ev = await sse.next();
      expect(ev.event).toBe('message');
      expect(JSON.parse(ev.data)).toEqual({ contextId: 'ctx-sse', type: 'StateMutation', data: 'hello' });
    } finally {
      sse.close();
    }
  });

  it('SSE without a token is a bare 401; with ?token= it connects', async () => {
    await expectBare(await fetch(`${base}/sse`), 401, null);
    const sse = await SseStream.open(`${base}/sse?token=${reader.access}`, {});
    try {
      expect((await sse.next()).event).toBe('connect');
    } finally {
      sse.close();
    }
  });
});

describe('Reference node: its JavaScript type-checks', () => {
  it('tsc -p examples/node-server (JSDoc against the package sources and node.d.ts) reports nothing', async () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const child = spawn(process.execPath, [tsc, '-p', join(ROOT, 'examples', 'node-server')], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    expect({ code, out }).toEqual({ code: 0, out: '' });
  }, 60_000);
});

describe('Reference node, embedded: the program (examples/node-server/server.js)', () => {
  it('runs as a process on this build: login, a guarded route, a clean SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mero-auth-node-'));
    try {
      await writeFile(join(dir, 'auth.json'), JSON.stringify({ user_password: { argon2: FAST_ARGON2 } }));
      // The example imports the built package (`mero-auth` → dist/); here it gets this run's
      // private build instead (test/global-setup.ts), through main()'s createAuth parameter.
      const built = pathToFileURL(join(dirname(cliPath()), 'index.js')).href;
      const server = pathToFileURL(join(ROOT, 'examples', 'node-server', 'server.js')).href;
      const code = `import { createAuth } from ${JSON.stringify(built)};
        import { main } from ${JSON.stringify(server)};
        main(process.argv.slice(1), { createAuth }).catch((e) => { console.error(e); process.exit(1); });`;
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          code,
          '--',
          '--auth-mode',
          'embedded',
          '--port',
          '0',
          '--data-dir',
          dir,
          '--auth-config',
          join(dir, 'auth.json'),
        ],
        {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '', MERO_AUTH_ADMIN_USER: ADMIN.username, MERO_AUTH_ADMIN_PASSWORD: ADMIN.password },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      try {
        const url = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no listening line within 15 s\n${stderr}`)), 15_000);
          createInterface({ input: child.stdout }).on('line', (line) => {
            const m = /^node listening on (http:\/\/127\.0\.0\.1:\d+) \(auth-mode embedded\)$/.exec(line);
            if (m?.[1]) {
              clearTimeout(timer);
              resolve(m[1]);
            }
          });
          void exited.then((code) => reject(new Error(`exited with ${code}\n${stderr}`)));
        });
        const pair = await login(url);
        expect((await fetch(`${url}/admin-api/contexts`, { headers: bearer(pair.access) })).status).toBe(200);
        await expectBare(await fetch(`${url}/admin-api/contexts`), 401, null);
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
      } finally {
        child.kill('SIGKILL');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
