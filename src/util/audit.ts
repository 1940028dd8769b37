/**
 * The audit trail (issue 12): one structured `info` line per admin action — a key revoked or
 * minted, permissions changed, an account created or updated, a session signed out — whoever
 * asked and however it ended. Lines carry `"audit":true`, so a pipeline can pick them out of the service log:
 *
 *   {"level":"info",…,"audit":true,"action":"root_key.revoke","actor":"ab12cd34…",
 *    "target":"9f8e7d6c…","client":"203.0.113.7","result":"refused","reason":"…","msg":"audit"}
 *
 * Key ids (actor and target) are logged as prefixes; names and free text are escaped and capped
 * (logSafe). Never a password, token or request body.
 */
import { logSafe, shortId, type Logger } from './logger.js';

export const AUDIT_MESSAGE = 'audit';

/** `ok`: done; `refused`: a rule said no (4xx, the last admin); `error`: it failed (5xx). */
export type AuditResult = 'ok' | 'refused' | 'error';

export type AuditAction =
  | 'key.revoke'
  | 'root_key.revoke'
  | 'client_key.revoke'
  | 'client_key.mint'
  | 'mock_token.mint'
  | 'permissions.update'
  | 'account.create'
  | 'account.update'
  | 'passkey.register'
  | 'passkey.delete'
  | 'second_factor.update'
  | 'totp.enrol'
  | 'second_factor.reset'
  | 'session.end'
  | 'session.end_all';

/** Who acted: a key id (logged as a prefix), or `cli` (set-admin) / `env` (startup provisioning). */
export type AuditActor = { keyId: string } | 'cli' | 'env' | undefined;

export interface AuditEntry {
  action: AuditAction;
  actor: AuditActor;
  /** What was acted on, already shortened/escaped by the caller (auditKey, auditName). */
  target?: string | undefined;
  /** The client's address (the rate limiter's view: X-Forwarded-For only from a trusted proxy). */
  client?: string | undefined;
  result: AuditResult;
  /** Why it was refused or failed: the error's message (escaped, capped). */
  reason?: string | undefined;
  /** The HTTP status, for an HTTP action. */
  status?: number | undefined;
  /** Extra, already safe fields (an account's outcome, the permissions added or removed). */
  details?: Record<string, unknown>;
}

/** A key id as a target: its prefix. */
export const auditKey = (id: string): string => logSafe(shortId(id));

/** A username or other free text as a target: escaped and capped. */
export const auditName = (s: string): string => logSafe(s);

export function audit(log: Logger, e: AuditEntry): void {
  const actor = e.actor === undefined ? null : typeof e.actor === 'string' ? e.actor : auditKey(e.actor.keyId);
  const line: Record<string, unknown> = { audit: true, action: e.action, actor };
  if (e.target !== undefined) line.target = e.target;
  line.client = e.client === undefined ? null : logSafe(e.client);
  line.result = e.result;
  if (e.reason !== undefined) line.reason = logSafe(e.reason);
  if (e.status !== undefined) line.status = e.status;
  if (e.details !== undefined) Object.assign(line, e.details);
  log.info(line, AUDIT_MESSAGE);
}
