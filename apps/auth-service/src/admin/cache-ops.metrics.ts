import { Injectable } from '@nestjs/common';
import { MetricsService } from '@app/metrics';
import { Counter, Gauge } from 'prom-client';

/** Cache warming and the consistency sampler, as Prometheus series. Every label value is bounded. */
@Injectable()
export class CacheOpsMetrics {
  readonly warmRuns: Counter<'trigger' | 'result'>;
  readonly warmedEntries: Counter<'entity'>;
  readonly warmFailedEntries: Counter<'entity'>;
  readonly warmInProgress: Gauge;
  readonly warmDuration: Gauge;
  readonly consistencyChecks: Counter<'entity' | 'result'>;
  readonly consistencyRepairs: Counter<'entity'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.warmRuns = new Counter({
      name: 'auth_cache_warm_runs_total',
      help: 'Cache warming runs by trigger (start, admin) and result (completed; incomplete: Redis failed some writes; failed; skipped; stopped: ended early by a shutdown)',
      labelNames: ['trigger', 'result'],
      registers,
    });
    this.warmedEntries = new Counter({
      name: 'auth_cache_warmed_entries_total',
      help: 'Entries warming stored in the cache or found there already, by entity',
      labelNames: ['entity'],
      registers,
    });
    this.warmFailedEntries = new Counter({
      name: 'auth_cache_warm_failed_entries_total',
      help: 'Entries warming could not store because Redis failed (timeout, open circuit, error), by entity',
      labelNames: ['entity'],
      registers,
    });
    this.warmInProgress = new Gauge({
      name: 'auth_cache_warm_in_progress',
      help: '1 while a warming run is in progress',
      registers,
    });
    this.warmDuration = new Gauge({
      name: 'auth_cache_warm_last_duration_seconds',
      help: 'Duration of the last completed warming run',
      registers,
    });
    this.consistencyChecks = new Counter({
      name: 'auth_cache_consistency_checks_total',
      help: 'Cache entries compared with their row, by entity and result (consistent, drift, error)',
      labelNames: ['entity', 'result'],
      registers,
    });
    this.consistencyRepairs = new Counter({
      name: 'auth_cache_consistency_repairs_total',
      help: 'Drifted cache entries repaired from the database, by entity',
      labelNames: ['entity'],
      registers,
    });
  }
}
