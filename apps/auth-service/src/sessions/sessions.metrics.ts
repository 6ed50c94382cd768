import { Injectable } from '@nestjs/common';
import { MetricsService } from '@app/metrics';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Revocation, RevocationListener } from './session-revoker';

/** The sessions' series: revocations by reason and the lastSeenAt write-behind. Label values are bounded. */
@Injectable()
export class SessionsMetrics implements RevocationListener {
  readonly revocations: Counter<'reason'>;
  readonly activityRecorded: Counter<'store'>;
  readonly activityFlushed: Counter;
  readonly activityFlushFailures: Counter;
  readonly activityFlushSeconds: Histogram;
  readonly activityPending: Gauge;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.revocations = new Counter({
      name: 'auth_session_revocations_total',
      help: 'Sessions revoked, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.activityRecorded = new Counter({
      name: 'auth_session_activity_recorded_total',
      help: 'Session activity recorded for the lastSeenAt write-behind, by store (redis, memory)',
      labelNames: ['store'],
      registers,
    });
    this.activityFlushed = new Counter({
      name: 'auth_session_activity_flushed_total',
      help: 'Session lastSeenAt values written to PostgreSQL by the write-behind',
      registers,
    });
    this.activityFlushFailures = new Counter({
      name: 'auth_session_activity_flush_failures_total',
      help: 'Write-behind flushes that failed (their values are kept for the next flush)',
      registers,
    });
    this.activityFlushSeconds = new Histogram({
      name: 'auth_session_activity_flush_duration_seconds',
      help: 'Duration of write-behind flushes',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.activityPending = new Gauge({
      name: 'auth_session_activity_pending',
      help: 'Session activity kept in process memory, waiting for a flush (Redis unavailable or flush failed)',
      registers,
    });
  }

  revoked({ reason, sessions }: Revocation): void {
    this.revocations.inc({ reason }, sessions.length);
  }
}
