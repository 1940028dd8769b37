import { AdminCounters, type LoginFailureType } from './admin-counters.js';
import {
  PrometheusMetrics,
  type LoginOutcomeLabel,
  type RefreshOutcome,
  type SessionRevokeReason,
  type ValidateDecision,
} from './prometheus.js';

export type { AdminMetricsSnapshot, LoginFailureType } from './admin-counters.js';
export type { LoginOutcomeLabel, RefreshOutcome, SessionRevokeReason, ValidateDecision } from './prometheus.js';
export { PrometheusMetrics } from './prometheus.js';

/**
 * Everything the service counts. The `/admin/metrics` counters are always on; the Prometheus
 * metrics exist only when `metrics.listen_addr` is set, so an instance without a listener pays
 * nothing for them on the forward-auth hot path.
 */
export class Metrics {
  readonly admin = new AdminCounters();
  readonly prometheus: PrometheusMetrics | undefined;

  constructor(opts: { prometheus: boolean }) {
    this.prometheus = opts.prometheus ? new PrometheusMetrics() : undefined;
  }

  /** A `/auth/token` outcome; `attempt` when it reached authentication (wire §5.12). */
  login(outcome: LoginOutcomeLabel, attempt?: { result: 'success' | LoginFailureType; durationMs: number }): void {
    if (attempt) this.admin.attempt(attempt.result, attempt.durationMs);
    this.prometheus?.login(outcome);
  }

  validate(decision: ValidateDecision): void {
    this.prometheus?.validate(decision);
  }

  refresh(outcome: RefreshOutcome): void {
    if (outcome === 'success' || outcome === 'grace_replay') this.admin.refreshed();
    this.prometheus?.refresh(outcome);
  }

  sessionsRevoked(reason: SessionRevokeReason, n = 1): void {
    this.prometheus?.sessionRevoked(reason, n);
  }

  keysRevoked(type: 'root' | 'client', n = 1): void {
    if (n <= 0) return;
    this.admin.keysRevoked(n);
    this.prometheus?.keyRevoked(type, n);
  }
}
