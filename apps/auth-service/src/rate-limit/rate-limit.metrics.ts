import { Injectable } from '@nestjs/common';
import { CIRCUIT_GAUGE_VALUE, CircuitBreaker } from '@app/cache';
import { MetricsService } from '@app/metrics';
import { Counter, Gauge } from 'prom-client';
import type { LimitName } from './rate-limit.definitions';

/** The rate limits' series: refusals by limit, and the state of the circuit in front of their Redis. */
@Injectable()
export class RateLimitMetrics {
  private readonly rejections: Counter<'limit'>;
  private circuit?: CircuitBreaker;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.rejections = new Counter({
      name: `${metrics.options.prefix}rate_limit_rejections_total`,
      help: 'Requests refused with 429 by a rate limit, by limit',
      labelNames: ['limit'],
      registers,
    });
    const read = () => this.circuit;
    new Gauge({
      name: `${metrics.options.prefix}rate_limit_circuit_state`,
      help: "Circuit in front of the rate limits' Redis: 0 closed, 1 half-open, 2 open (in-process limits)",
      registers,
      collect() {
        const circuit = read();
        if (circuit) this.set(CIRCUIT_GAUGE_VALUE[circuit.state]);
      },
    });
  }

  /** The circuit whose state the gauge shows (RateLimitService's, once built). */
  watch(circuit: CircuitBreaker): void {
    this.circuit = circuit;
  }

  rejected(limit: LimitName): void {
    this.rejections.inc({ limit });
  }
}
