/** The `/admin/metrics` counters (wire §5.12): per process, since start, always on. */
export type LoginFailureType =
  | 'invalid_credentials'
  | 'unsupported_method'
  | 'invalid_provider_data'
  | 'password_too_long'
  | 'node_mismatch'
  | 'second_factor_required'
  | 'invalid_second_factor'
  | 'invalid_passkey'
  | 'internal';

export interface AdminMetricsSnapshot {
  auth_attempts: number;
  auth_successes: number;
  auth_failures: number;
  auth_success_rate: number;
  auth_avg_duration_ms: number;
  auth_failures_by_type: Partial<Record<LoginFailureType, number>>;
  token_refreshes: number;
  token_revocations: number;
}

export class AdminCounters {
  private attempts = 0;
  private successes = 0;
  private failures = 0;
  private durationMsTotal = 0;
  private readonly failuresByType: Partial<Record<LoginFailureType, number>> = {};
  private refreshes = 0;
  private revocations = 0;

  /** An attempt that reached authentication (429 and 503 are not attempts). */
  attempt(outcome: 'success' | LoginFailureType, durationMs: number): void {
    this.attempts++;
    this.durationMsTotal += durationMs;
    if (outcome === 'success') this.successes++;
    else {
      this.failures++;
      this.failuresByType[outcome] = (this.failuresByType[outcome] ?? 0) + 1;
    }
  }

  refreshed(): void {
    this.refreshes++;
  }

  keysRevoked(n = 1): void {
    this.revocations += n;
  }

  snapshot(): AdminMetricsSnapshot {
    return {
      auth_attempts: this.attempts,
      auth_successes: this.successes,
      auth_failures: this.failures,
      auth_success_rate: this.attempts === 0 ? 0 : (this.successes / this.attempts) * 100,
      auth_avg_duration_ms: this.attempts === 0 ? 0 : Math.floor(this.durationMsTotal / this.attempts),
      auth_failures_by_type: { ...this.failuresByType },
      token_refreshes: this.refreshes,
      token_revocations: this.revocations,
    };
  }
}
