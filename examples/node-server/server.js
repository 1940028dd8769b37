#!/usr/bin/env node
// @ts-check
/**
 * Runs the reference node (node.js):
 *
 *   npm install && npm run build
 *   node examples/node-server/server.js --auth-mode embedded [--port 2428] [--host 127.0.0.1]
 *        [--data-dir ./data/node] [--auth-config auth.json]
 *   node examples/node-server/server.js --auth-mode proxy [--port 2428] [--host 127.0.0.1]
 *
 * Embedded mode imports the built package (`mero-auth`, i.e. dist/) and stores its data under
 * `<data-dir>/auth`. `--auth-config` is a JSON file with the createAuth configuration (the same
 * nested keys as the TOML file). MERO_AUTH_ADMIN_USER + MERO_AUTH_ADMIN_PASSWORD provision the
 * first admin, as with the standalone service. SIGINT/SIGTERM shut down gracefully.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startNode } from './node.js';

const USAGE = 'usage: server.js --auth-mode embedded|proxy [--port N] [--host IP] [--data-dir DIR] [--auth-config FILE]';

/**
 * @param {string[]} argv arguments after the script name
 * @param {{ createAuth?: typeof import('../../src/index.js').createAuth }} [deps] where createAuth
 *   comes from; by default the built package (tests pass their own build)
 */
export async function main(argv, deps = {}) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'auth-mode': { type: 'string' },
      port: { type: 'string', default: '2428' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string', default: './data/node' },
      'auth-config': { type: 'string' },
    },
  });
  const authMode = values['auth-mode'];
  if (authMode !== 'embedded' && authMode !== 'proxy') throw new Error(USAGE);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port: ${values.port}`);

  let auth;
  if (authMode === 'embedded') {
    const createAuth = deps.createAuth ?? (await import('mero-auth')).createAuth;
    /** @type {Record<string, any>} */
    const config = values['auth-config'] ? JSON.parse(readFileSync(values['auth-config'], 'utf8')) : {};
    config.storage ??= { type: 'level', path: resolve(values['data-dir'] ?? '.', 'auth') };
    auth = await createAuth(config);
  }
  let running;
  try {
    running = await startNode({ authMode, ...(auth ? { auth } : {}), host: values.host, port });
  } catch (e) {
    await auth?.close();
    throw e;
  }
  process.stdout.write(`node listening on ${running.url} (auth-mode ${authMode})\n`);

  const stop = async (/** @type {string} */ signal) => {
    process.stdout.write(`node: ${signal}, shutting down\n`);
    await running.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  return running;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`node: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(e?.name === 'ConfigError' || String(e?.message).startsWith('usage:') ? 2 : 1);
  });
}
