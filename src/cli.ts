#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4
import { availableParallelism } from 'node:os';
// argon2 and LevelDB share libuv's threadpool: leave LevelDB threads while every hashing slot is busy.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism() + 2));
import { parseArgs } from 'node:util';
import {
  AdminEnvError,
  auditProvision,
  provisionFromEnv,
  readAdminEnv,
  readPasswordFile,
  stripOneNewline,
} from './auth/admin-env.js';
import { provision, ProvisionError } from './auth/provision.js';
import { loadConfig, type ResolvedConfig } from './config/load.js';
import { configListing } from './config/check.js';
import { storageAdvice } from './storage/advice.js';
import { PromptAborted, promptHidden } from './util/prompt.js';
import { isConfigError } from './config/errors.js';
import type { AuthConfig } from './config/schema.js';
import { createApp, edgeOptions } from './http/app.js';
import { validateLane } from './http/validate-lane.js';
import { createMetricsApp } from './http/metrics-app.js';
import type { Server } from 'node:http';
import { closeServer, listen } from './server.js';
import { AuthService } from './service.js';
import { createLogger, shortId, type Logger } from './util/logger.js';
import { lowerThreadpoolPriority } from './util/threadpool-priority.js';
import { VERSION } from './version.js';
import { audit, auditName } from './util/audit.js';
import { resetSecondFactor } from './second-factor/reset.js';

const HELP = `mero-auth ${VERSION} — authentication service for Calimero nodes

Usage:
  mero-auth [serve] [-c|--config <path>] [-b|--bind <ip:port>] [--strict] [-v|--verbose]...
  mero-auth set-admin [-c|--config <path>] [--username <name>]
                      [--password-file <path> | --password-stdin]
  mero-auth set-admin [-c|--config <path>] --username <name> --reset-second-factor
  mero-auth config check [-c|--config <path>] [-b|--bind <ip:port>] [--strict]
  mero-auth -h|--help
  mero-auth -V|--version

serve (the default) runs the service. Without --config it uses the defaults plus AUTH__*
environment overrides (e.g. AUTH__LISTEN_ADDR=0.0.0.0:3001). The first admin comes from
MERO_AUTH_ADMIN_USER + MERO_AUTH_ADMIN_PASSWORD (or MERO_AUTH_ADMIN_PASSWORD_FILE) at startup,
or from 'mero-auth set-admin' while the service is stopped (on a terminal it asks for the
password without echo).

set-admin --reset-second-factor is the recovery path for a lost passkey or authenticator app:
it removes the account's second factor, recovery codes and passkeys (the password stays), so
the password alone signs in again. Run it while the service is stopped.

-v logs each forward-auth decision with its reason (debug), -vv also every request (trace).
--strict (or server.strict_config = true) refuses unknown configuration keys instead of warning.
'config check' prints the effective configuration, each value with where it came from.

Exit codes: 0 success, 1 startup or runtime failure, 2 configuration or usage error.
`;

class UsageError extends Error {}

/** Exit with `code` after printing `message` to stderr. */
class Exit extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function parse(argv: string[]) {
  const args = [...argv];
  let command = 'serve';
  if (args[0] === 'serve' || args[0] === 'set-admin') command = args.shift() as string;
  else if (args[0] === 'config') {
    args.shift();
    const sub = args.shift();
    if (sub !== 'check') {
      throw new UsageError(sub === undefined ? "'config' needs a subcommand: check" : `unknown config subcommand '${sub}'`);
    }
    command = 'config check';
  }
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        bind: { type: 'string', short: 'b' },
        verbose: { type: 'boolean', short: 'v', multiple: true },
        strict: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
        username: { type: 'string' },
        'password-file': { type: 'string' },
        'password-stdin': { type: 'boolean' },
        'reset-second-factor': { type: 'boolean' },
      },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (command !== 'set-admin' && (values.username || values['password-file'] || values['password-stdin'])) {
      throw new UsageError('--username, --password-file and --password-stdin belong to set-admin');
    }
    if (command !== 'set-admin' && values['reset-second-factor'])
      throw new UsageError('--reset-second-factor belongs to set-admin');
    if (values['reset-second-factor'] && (values['password-file'] !== undefined || values['password-stdin'])) {
      throw new UsageError('--reset-second-factor takes no password');
    }
    if (command === 'set-admin' && values.bind !== undefined) throw new UsageError('--bind belongs to serve');
    if (command === 'set-admin' && values.strict) throw new UsageError('--strict belongs to serve and config check');
    if (command === 'config check' && values.verbose) throw new UsageError('-v belongs to serve');
    if (values['password-file'] !== undefined && values['password-stdin']) {
      throw new UsageError('use one of --password-file and --password-stdin');
    }
    return { command, values };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(parseArgsMessage(e as Error));
  }
}

/** node:util parseArgs's message, first sentence only: `unknown option '--bogus'`. */
function parseArgsMessage(e: Error): string {
  const first = e.message.split(/\.(?: |$)/)[0] ?? e.message;
  return first.charAt(0).toLowerCase() + first.slice(1);
}

function loadOrExit(file: string | undefined, bind: string | undefined, strict = false): ResolvedConfig {
  try {
    return loadConfig({ file, env: process.env, bind, mode: 'standalone', strict });
  } catch (e) {
    if (isConfigError(e)) throw new Exit(2, e.message);
    throw e;
  }
}

async function openOrExit(config: AuthConfig, log: Logger): Promise<AuthService> {
  try {
    return await AuthService.open(config, { env: process.env, logger: log });
  } catch (e) {
    throw new Exit(1, `mero-auth: ${storageAdvice(e, config) ?? (e as Error).message}`);
  }
}

async function serveCommand(values: ReturnType<typeof parse>['values']): Promise<void> {
  const { config, warnings } = loadOrExit(values.config, values.bind, values.strict);
  const verbosity = values.verbose?.length ?? 0;
  const log = createLogger(verbosity === 0 ? 'info' : verbosity === 1 ? 'debug' : 'trace');
  for (const w of warnings) log.warn(w);
  const pool = await lowerThreadpoolPriority(config.server.threadpool_nice);
  if (pool.status === 'skipped') log.debug({ reason: pool.reason }, 'threadpool priority unchanged');
  else if (pool.threads < pool.poolSize) log.warn({ ...pool }, 'threadpool priority lowered on only part of the pool');
  else log.debug({ ...pool }, 'threadpool priority lowered');
  const svc = await openOrExit(config, log);
  // Signals are handled from here on, before anything listens: a SIGTERM during startup still
  // closes the store cleanly and exits 0.
  const servers: Server[] = [];
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      log.info({ signal }, 'shutting down');
      svc.shuttingDown = true;
      await Promise.all(servers.map((s) => closeServer(s)));
      await svc.close();
      log.info('stopped');
      process.exit(0);
    })();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  try {
    await provisionFromEnv(svc.core, process.env);
  } catch (e) {
    await svc.close();
    if (e instanceof AdminEnvError) throw new Exit(2, `mero-auth: ${e.message}`);
    throw new Exit(1, `mero-auth: provisioning failed: ${(e as Error).message}`);
  }
  svc.startTimers();
  const app = createApp(svc);
  let listening;
  try {
    // Forward-auth answers that memory can give skip the framework (src/http/validate-lane.ts).
    listening = await listen(app, config.listen_addr, { lane: validateLane(svc, edgeOptions(svc)) });
  } catch (e) {
    await svc.close();
    throw new Exit(1, `mero-auth: cannot listen on ${config.listen_addr}: ${(e as Error).message}`);
  }
  servers.push(listening.server);
  const prometheus = svc.core.metrics.prometheus;
  if (config.metrics.listen_addr !== undefined && prometheus !== undefined) {
    let metricsListening;
    try {
      metricsListening = await listen(createMetricsApp(prometheus), config.metrics.listen_addr);
    } catch (e) {
      await closeServer(listening.server, 0);
      await svc.close();
      throw new Exit(1, `mero-auth: cannot listen on ${config.metrics.listen_addr} (metrics): ${(e as Error).message}`);
    }
    servers.push(metricsListening.server);
    const m = metricsListening.address;
    log.info({ address: m.address, port: m.port }, `metrics on ${hostPort(m.address, m.port)}/metrics`);
  }
  const { address, port } = listening.address;
  log.info({ address, port, storage: config.storage.type }, `listening on ${hostPort(address, port)}`);
}

/**
 * `mero-auth config check`: the configuration a start would use (file, AUTH__* environment,
 * --bind), each key with its value (secrets redacted) and source, on stdout; warnings (unknown
 * keys with a suggestion) on stderr. Exit 0, or 2 with one line per problem.
 */
function configCheckCommand(values: ReturnType<typeof parse>['values']): number {
  const { config, warnings, sources } = loadOrExit(values.config, values.bind, values.strict);
  process.stdout.write(configListing(config, sources));
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  process.stderr.write(
    `configuration OK${warnings.length > 0 ? ` (${warnings.length} warning${warnings.length > 1 ? 's' : ''})` : ''}\n`,
  );
  return 0;
}

const hostPort = (address: string, port: number): string => `${address.includes(':') ? `[${address}]` : address}:${port}`;

/** The password from the terminal, without echo; asked a second time when `confirm`. */
async function askPassword(username: string, confirm: boolean): Promise<string> {
  try {
    const first = await promptHidden(`Password for '${username}': `, process.stdin, process.stderr);
    if (confirm && first !== '') {
      const again = await promptHidden('Repeat the password: ', process.stdin, process.stderr);
      if (again !== first) throw new Exit(2, 'mero-auth: the passwords do not match; nothing was changed');
    }
    return first;
  } catch (e) {
    if (e instanceof PromptAborted) throw new Exit(2, `mero-auth: ${e.message}; nothing was changed`);
    throw e;
  }
}

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    // One line: stop at the first newline instead of waiting for EOF, which a terminal (or a
    // pipe the writer keeps open) never sends.
    if ((chunk as Buffer).includes(0x0a)) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const nl = text.indexOf('\n');
  return stripOneNewline(nl === -1 ? text : text.slice(0, nl + 1));
}

async function setAdminCommand(values: ReturnType<typeof parse>['values']): Promise<void> {
  const { config, warnings } = loadOrExit(values.config, undefined);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  if (config.storage.type === 'memory') {
    throw new Exit(2, 'mero-auth: set-admin needs persistent storage; storage.type is memory');
  }
  if (values['reset-second-factor']) return resetSecondFactorCommand(config, values.username);
  let username = values.username;
  let password: string | undefined;
  try {
    if (values['password-file'] !== undefined) password = readPasswordFile(values['password-file'], '--password-file');
    else if (values['password-stdin']) {
      // A terminal is asked below, without echo; a pipe gives its first line.
      if (process.stdin.isTTY !== true) password = await readStdinLine();
    } else if (username === undefined) {
      const creds = readAdminEnv(process.env);
      username = creds?.username;
      password = creds?.password;
    } else {
      const file = process.env.MERO_AUTH_ADMIN_PASSWORD_FILE;
      password = (file ? readPasswordFile(file) : '') || process.env.MERO_AUTH_ADMIN_PASSWORD || undefined;
    }
  } catch (e) {
    throw new Exit(2, `mero-auth: ${(e as Error).message}`);
  }
  username ??= process.env.MERO_AUTH_ADMIN_USER || undefined;
  if (!username) throw new Exit(2, 'mero-auth: set-admin needs --username (or MERO_AUTH_ADMIN_USER)');
  // On a terminal, ask (without echo) rather than refuse; a pipe is read as before.
  if ((password === undefined || password === '') && process.stdin.isTTY === true && values['password-file'] === undefined) {
    password = await askPassword(username, !values['password-stdin']);
  }
  if (password === undefined || password === '') {
    throw new Exit(2, 'mero-auth: set-admin needs a password: --password-file, --password-stdin or MERO_AUTH_ADMIN_PASSWORD');
  }
  const log = createLogger('warn');
  // The audit line is written whatever the level (one line, on stderr).
  const auditLog = createLogger('info');
  const svc = await openOrExit(config, log);
  try {
    const result = await provision(svc.core, username, password, { wait: true });
    auditProvision(auditLog, 'cli', username, result);
    process.stdout.write(`admin '${username}' ${result.outcome} (key ${shortId(result.keyId)})\n`);
  } catch (e) {
    auditProvision(auditLog, 'cli', username, e);
    if (e instanceof ProvisionError) throw new Exit(2, `mero-auth: ${e.message}`);
    throw new Exit(1, `mero-auth: ${(e as Error).message}`);
  } finally {
    await svc.close();
  }
}

/** `set-admin --reset-second-factor` (issue 13): the offline recovery path. */
async function resetSecondFactorCommand(config: AuthConfig, name: string | undefined): Promise<void> {
  const username = name ?? (process.env.MERO_AUTH_ADMIN_USER || undefined);
  if (!username) throw new Exit(2, 'mero-auth: --reset-second-factor needs --username (or MERO_AUTH_ADMIN_USER)');
  const auditLog = createLogger('info');
  const svc = await openOrExit(config, createLogger('warn'));
  try {
    const done = await resetSecondFactor(svc.core, username);
    if (done === undefined) {
      audit(auditLog, {
        action: 'second_factor.reset',
        actor: 'cli',
        target: auditName(username),
        result: 'refused',
        reason: 'no such account',
      });
      throw new Exit(2, `mero-auth: no account '${username}'`);
    }
    audit(auditLog, {
      action: 'second_factor.reset',
      actor: 'cli',
      target: auditName(done.username),
      result: 'ok',
      details: { passkeys_removed: done.passkeys },
    });
    process.stdout.write(
      `second factor of '${done.username}' reset: ${done.passkeys} passkey${done.passkeys === 1 ? '' : 's'} removed; the password alone signs in\n`,
    );
  } finally {
    await svc.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { command, values } = parse(argv);
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (values.version) {
      process.stdout.write(`mero-auth ${VERSION}\n`);
      return 0;
    }
    if (command === 'set-admin') await setAdminCommand(values);
    else if (command === 'config check') return configCheckCommand(values);
    else await serveCommand(values);
    return -1; // serving: stay alive
  } catch (e) {
    if (e instanceof UsageError) {
      // One line, no stack: the help is one flag away.
      process.stderr.write(`mero-auth: ${e.message} (see mero-auth --help)\n`);
      return 2;
    }
    if (e instanceof Exit) {
      process.stderr.write(`${e.message}\n`);
      return e.code;
    }
    process.stderr.write(`mero-auth: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
