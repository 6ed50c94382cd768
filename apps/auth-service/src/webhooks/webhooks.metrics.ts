import { Injectable } from '@nestjs/common';
import { MetricsService } from '@app/metrics';
import { Counter, Gauge } from 'prom-client';

/** Deliveries by result, and the outbox's depth and oldest undelivered age (alert: ops/alerts.yml). */
@Injectable()
export class WebhooksMetrics {
  readonly deliveries: Counter<'result'>;
  readonly pending: Gauge;
  readonly oldestAge: Gauge;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.deliveries = new Counter({
      name: 'auth_webhook_deliveries_total',
      help: 'Webhook delivery attempts, by result (delivered, failed: retried later, dead: retries exhausted)',
      labelNames: ['result'],
      registers,
    });
    this.pending = new Gauge({
      name: 'auth_webhook_outbox_pending',
      help: 'Webhook deliveries not yet delivered (nor given up)',
      registers,
    });
    this.oldestAge = new Gauge({
      name: 'auth_webhook_outbox_oldest_age_seconds',
      help: 'Age of the oldest undelivered webhook delivery (0 when none)',
      registers,
    });
    for (const result of ['delivered', 'failed', 'dead']) this.deliveries.inc({ result }, 0);
  }
}
