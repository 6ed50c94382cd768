export type CircuitState = 'closed' | 'open' | 'half-open';

/** A circuit's state as a gauge value (the `*_circuit_state` series): 0 closed, 1 half-open, 2 open. */
export const CIRCUIT_GAUGE_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * Stops calling a failing dependency after `failureThreshold` consecutive failures, for
 * `cooldownMs`; then lets one probe through (half-open): success closes, failure re-opens.
 * While open, callers skip the dependency at no cost.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private current: CircuitState = 'closed';

  constructor(
    private readonly failureThreshold: number,
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
    /** `from` tells an outage's start (closed → open) from a failed probe (half-open → open). */
    private readonly onChange: (state: CircuitState, from: CircuitState) => void = () => undefined,
  ) {}

  get state(): CircuitState {
    return this.current;
  }

  /** Whether a call may go out now; in half-open only one probe at a time does. */
  allow(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open' && this.now() - this.openedAt >= this.cooldownMs) this.set('half-open');
    if (this.current === 'half-open' && !this.probing) {
      this.probing = true;
      return true;
    }
    return false;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    if (this.current !== 'closed') this.set('closed');
  }

  failure(): void {
    this.probing = false;
    this.failures += 1;
    if (this.current === 'half-open' || this.failures >= this.failureThreshold) {
      this.openedAt = this.now();
      if (this.current !== 'open') this.set('open');
    }
  }

  private set(state: CircuitState): void {
    const from = this.current;
    this.current = state;
    this.onChange(state, from);
  }
}
