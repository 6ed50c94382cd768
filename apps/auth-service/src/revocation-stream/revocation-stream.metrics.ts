import { Injectable } from '@nestjs/common';
import { MetricsService } from '@app/metrics';
import { Counter, Gauge, Histogram } from 'prom-client';

/** The revocation stream's series (server side). Label values are bounded. */
@Injectable()
export class RevocationStreamMetrics {
  readonly consumers: Gauge;
  readonly eventsSent: Counter;
  readonly dropped: Counter<'reason'>;
  readonly lag: Histogram;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.consumers = new Gauge({
      name: 'auth_revocation_stream_consumers',
      help: 'Consumers connected to the revocation stream on this instance',
      registers,
    });
    this.eventsSent = new Counter({
      name: 'auth_revocation_stream_events_sent_total',
      help: 'revoked events written to revocation stream consumers (snapshot, catch-up and live)',
      registers,
    });
    this.dropped = new Counter({
      name: 'auth_revocation_stream_dropped_total',
      help: 'Revocation stream consumers ended by the server, by reason (slow_consumer, shutdown, unavailable)',
      labelNames: ['reason'],
      registers,
    });
    this.lag = new Histogram({
      name: 'auth_revocation_stream_lag_seconds',
      help: 'Consumer lag: from a revocation (its revoked_at) to its live event written to a consumer',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers,
    });
  }
}
