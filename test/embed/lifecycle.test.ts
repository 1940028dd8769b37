/**
 * A node that restarts its auth service (tests, hot reload, many contexts) must not pile up
 * handles or timers: `createAuth` started and closed 100 times in one process leaves nothing
 * behind (issue 4 acceptance).
 *
 * Every async resource created during the cycles is tracked with async_hooks from `init` to
 * `destroy`: timers (ref'd or unref'd, which `process.getActiveResourcesInfo()` would not show),
 * sockets, servers, file handles, LevelDB's native work. Promises are left out: they are
 * destroyed by the garbage collector, not by the code under test.
 */
import { createHook } from 'node:async_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuth } from '../../src/index.js';
import { FAST_ARGON2 } from './clients.js';

const silent = pino({ level: 'silent' });
let dir: string;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * Some resources report their end only when the garbage collector takes their wrapper (a closed
 * FileHandle, a finished randomBytes request): collect, so that what remains is really held.
 * A FileHandle that was never closed would be closed by the collector with a warning, which
 * the test watches for.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Lets pending callbacks (completed fs requests, close callbacks) run and their resources end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 0));
    gc();
  }
}

/** Async resources created while `fn` runs that have not been destroyed once it is done. */
async function leftBehind(fn: () => Promise<void>): Promise<Map<number, string>> {
  const live = new Map<number, string>();
  let recording = true;
  const hook = createHook({
    init(id, type) {
      if (recording && type !== 'PROMISE') live.set(id, type);
    },
    destroy(id) {
      live.delete(id);
    },
  });
  hook.enable();
  try {
    await fn();
    recording = false; // settle()'s own timers are not the code's
    await settle();
  } finally {
    hook.disable();
  }
  return live;
}

function countList(types: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const type of types) out[type] = (out[type] ?? 0) + 1;
  return out;
}
const count = (live: Map<number, string>) => countList(live.values());

describe('createAuth lifecycle', () => {
  it('100 × createAuth + a request + close on LevelDB stores: no handles, timers or listeners left behind', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mero-auth-lifecycle-'));
    // Ref'd handles (what keeps a process alive), apart from in-flight fs requests of the runner.
    const handles = () =>
      process
        .getActiveResourcesInfo()
        .filter((t) => !t.startsWith('FSReq') && t !== 'TTYWrap')
        .sort();
    const handlesBefore = handles();
    const listenersBefore = ['exit', 'SIGINT', 'SIGTERM', 'beforeExit', 'uncaughtException'].map((e) => process.listenerCount(e));

    // Warm-up: lazily created singletons (the libuv threadpool, module state) are not leaks.
    const warm = await createAuth(
      { storage: { type: 'level', path: join(dir, 'warm') }, metrics: { listen_addr: '127.0.0.1:0' } },
      { logger: silent, env: {} },
    );
    await warm.fetch(new Request('http://x/auth/health'));
    await warm.close();

    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    const live = await leftBehind(async () => {
      for (let i = 0; i < 100; i++) {
        const auth = await createAuth(
          {
            storage: { type: 'level', path: join(dir, `n${i}`) },
            user_password: { argon2: FAST_ARGON2 },
            // Every tenth instance also runs the Prometheus listener.
            ...(i % 10 === 0 ? { metrics: { listen_addr: '127.0.0.1:0' } } : {}),
          },
          { logger: silent, env: {} },
        );
        const res = await auth.fetch(new Request('http://x/auth/ready'));
        expect(res.status).toBe(200);
        await res.arrayBuffer();
        await auth.close();
      }
    });

    process.off('warning', onWarning);
    expect(warnings).toEqual([]);
    const leaked = count(live);
    // Resource kinds that would mean a leak, whatever their number.
    for (const kind of ['Timeout', 'Immediate', 'TCPSERVERWRAP', 'TCPWRAP', 'FILEHANDLE', 'PIPEWRAP']) {
      expect(leaked[kind] ?? 0, `${kind} left behind: ${JSON.stringify(leaked)}`).toBe(0);
    }
    // And nothing else that grows with the number of instances.
    expect(live.size, `left behind: ${JSON.stringify(leaked)}`).toBeLessThan(5);

    // No kind of ref'd handle is more numerous than before (the runner's own may have ended).
    const before = countList(handlesBefore);
    for (const [kind, n] of Object.entries(countList(handles()))) {
      expect(n, `${kind}: ${JSON.stringify(handles())} vs ${JSON.stringify(handlesBefore)}`).toBeLessThanOrEqual(
        before[kind] ?? 0,
      );
    }
    expect(['exit', 'SIGINT', 'SIGTERM', 'beforeExit', 'uncaughtException'].map((e) => process.listenerCount(e))).toEqual(
      listenersBefore,
    );
  });
});
