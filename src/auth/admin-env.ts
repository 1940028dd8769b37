import { readFileSync } from 'node:fs';
import type { Core } from '../core.js';
import { accountExists, provision, type ProvisionResult } from './provision.js';
import { audit, auditKey, auditName } from '../util/audit.js';
import type { Logger } from '../util/logger.js';

export class AdminEnvError extends Error {
  override readonly name = 'AdminEnvError';
}

type Env = Record<string, string | undefined>;

/** Strips exactly one trailing "\n" or "\r\n" (wire §7.1). */
export function stripOneNewline(s: string): string {
  if (s.endsWith('\r\n')) return s.slice(0, -2);
  if (s.endsWith('\n')) return s.slice(0, -1);
  return s;
}

export function readPasswordFile(path: string, label = 'MERO_AUTH_ADMIN_PASSWORD_FILE'): string {
  try {
    return stripOneNewline(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new AdminEnvError(`failed to read ${label}=${path}: ${(e as Error).message}`);
  }
}

/** The admin credentials in the environment, or undefined when none are set. */
export function readAdminEnv(env: Env): { username: string; password: string } | undefined {
  const username = env.MERO_AUTH_ADMIN_USER || undefined;
  let password: string | undefined;
  const file = env.MERO_AUTH_ADMIN_PASSWORD_FILE;
  if (file) password = readPasswordFile(file) || undefined;
  password ??= env.MERO_AUTH_ADMIN_PASSWORD || undefined;
  if (username && !password) {
    throw new AdminEnvError(
      'MERO_AUTH_ADMIN_USER is set but no password was provided; set MERO_AUTH_ADMIN_PASSWORD or MERO_AUTH_ADMIN_PASSWORD_FILE',
    );
  }
  if (!username && password) {
    throw new AdminEnvError(
      'an admin password is set (MERO_AUTH_ADMIN_PASSWORD or MERO_AUTH_ADMIN_PASSWORD_FILE) but MERO_AUTH_ADMIN_USER is not; set it or unset the password',
    );
  }
  return username && password ? { username, password } : undefined;
}

/** Startup provisioning (wire §7.1 "When it runs"). */
export async function provisionFromEnv(core: Core, env: Env): Promise<ProvisionResult | undefined> {
  const anySet = ['MERO_AUTH_ADMIN_USER', 'MERO_AUTH_ADMIN_PASSWORD', 'MERO_AUTH_ADMIN_PASSWORD_FILE'].some(
    (k) => (env[k] ?? '') !== '',
  );
  if (!core.config.providers.user_password) {
    if (anySet) core.log.warn('user_password provider is disabled; MERO_AUTH_ADMIN_* credentials are ignored');
    return undefined;
  }
  if (await accountExists(core)) return undefined;
  const creds = readAdminEnv(env);
  if (!creds) {
    core.log.info(
      'no account exists: login stays disabled until one is provisioned with `mero-auth set-admin --username <name> --password-stdin`, ' +
        'or with MERO_AUTH_ADMIN_USER + MERO_AUTH_ADMIN_PASSWORD (or MERO_AUTH_ADMIN_PASSWORD_FILE) and a restart',
    );
    return undefined;
  }
  try {
    const result = await provision(core, creds.username, creds.password, { wait: true });
    auditProvision(core.log, 'env', creds.username, result);
    return result;
  } catch (e) {
    auditProvision(core.log, 'env', creds.username, e);
    if (e instanceof Error && e.name === 'ProvisionError') throw new AdminEnvError(e.message);
    throw e;
  }
}

/**
 * The audit line of an account provisioned outside HTTP: `set-admin` (actor `cli`) or the
 * startup credentials (actor `env`). A ProvisionError (a refused username or password) is
 * `refused`; anything else `error`.
 */
export function auditProvision(log: Logger, actor: 'cli' | 'env', username: string, outcome: ProvisionResult | unknown): void {
  const target = auditName(username);
  if (outcome instanceof Error) {
    const refused = outcome.name === 'ProvisionError';
    audit(log, { action: 'account.create', actor, target, result: refused ? 'refused' : 'error', reason: outcome.message });
    return;
  }
  const result = outcome as ProvisionResult;
  const created = result.outcome === 'created' || result.outcome === 'replaced';
  audit(log, {
    action: created ? 'account.create' : 'account.update',
    actor,
    target,
    result: 'ok',
    details: { outcome: result.outcome, key: auditKey(result.keyId) },
  });
}
