import { Counter, Histogram, Registry } from 'prom-client';

export type LoginOutcomeLabel = 'success' | 'invalid_credentials' | 'rate_limited' | 'busy' | 'bad_request' | 'error';
export type ValidateDecision =
  | 'allow'
  | 'missing_token'
  | 'token_expired'
  | 'token_revoked'
  | 'invalid_token'
  | 'invalid_node'
  | 'permission_denied';
export type RefreshOutcome = 'success' | 'grace_replay' | 'reuse' | 'revoked' | 'invalid' | 'error';
export type SessionRevokeReason = 'refresh_reuse' | 'key_revoked' | 'password_change' | 'logout';

/**
 * The Prometheus metrics of wire §7.7, on a registry of their own (two embedded instances share
 * nothing). Label children are bound once and cached: recording stays cheap on the hot path.
 */
export class PrometheusMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'mero_auth_http_requests_total',
    help: 'HTTP requests by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'mero_auth_http_request_duration_seconds',
    help: 'HTTP request duration by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly logins = new Counter({
    name: 'mero_auth_logins_total',
    help: 'Login attempts by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly validates = new Counter({
    name: 'mero_auth_validate_decisions_total',
    help: '/auth/validate decisions.',
    labelNames: ['decision'] as const,
    registers: [this.registry],
  });
  private readonly refreshes = new Counter({
    name: 'mero_auth_refreshes_total',
    help: 'Refresh exchanges by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly sessionsRevoked = new Counter({
    name: 'mero_auth_sessions_revoked_total',
    help: 'Sessions revoked, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly keysRevoked = new Counter({
    name: 'mero_auth_keys_revoked_total',
    help: 'Keys revoked, by type.',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  private readonly requestChildren = new Map<string, { inc(): void }>();
  private readonly durationChildren = new Map<string, { observe(v: number): void }>();

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let counter = this.requestChildren.get(key);
    if (counter === undefined) {
      counter = this.requests.labels(method, route, String(status));
      this.requestChildren.set(key, counter);
    }
    counter.inc();
    const dkey = `${method} ${route}`;
    let hist = this.durationChildren.get(dkey);
    if (hist === undefined) {
      hist = this.duration.labels(method, route);
      this.durationChildren.set(dkey, hist);
    }
    hist.observe(seconds);
  }

  login(outcome: LoginOutcomeLabel): void {
    this.logins.labels(outcome).inc();
  }

  validate(decision: ValidateDecision): void {
    this.validates.labels(decision).inc();
  }

  refresh(outcome: RefreshOutcome): void {
    this.refreshes.labels(outcome).inc();
  }

  sessionRevoked(reason: SessionRevokeReason, n = 1): void {
    if (n > 0) this.sessionsRevoked.labels(reason).inc(n);
  }

  keyRevoked(type: 'root' | 'client', n = 1): void {
    if (n > 0) this.keysRevoked.labels(type).inc(n);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return 'text/plain; version=0.0.4; charset=utf-8';
  }
}
