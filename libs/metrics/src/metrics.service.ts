import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { METRICS_OPTIONS, MetricsOptions } from './metrics.options';

/** The process's Prometheus registry: default Node metrics plus what features register on it. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;

  constructor(@Inject(METRICS_OPTIONS) readonly options: MetricsOptions) {
    collectDefaultMetrics({ register: this.registry });
    // prom-client names three gauges `*_total`, which `promtool check metrics` rejects (a suffix
    // reserved for counters); the same values are exported per type without the suffix.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ]) {
      this.registry.removeSingleMetric(name);
    }
    this.httpDuration = new Histogram({
      name: `${options.prefix}http_request_duration_seconds`,
      help: 'HTTP request duration by method, route template and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
  }

  /** `route` must be a template (`/api/v1/auth/sessions/:id`), never a raw URL: label values stay bounded. */
  observeHttp(method: string, route: string | undefined, status: number, seconds: number): void {
    this.httpDuration.observe({ method, route: route ?? 'unmatched', status: String(status) }, seconds);
  }

  exposition(): Promise<string> {
    return this.registry.metrics();
  }
}
