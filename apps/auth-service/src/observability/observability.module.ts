import { Module, OnApplicationShutdown } from '@nestjs/common';
import { CacheDatabaseMetrics } from './cache-database.metrics';
import { CacheStoreMetrics } from './cache-store.metrics';
import { stopTracing } from './tracing';

/**
 * The series of the shared infrastructure (cache, database, Redis). Each feature owns its own
 * series (sessions.metrics.ts, auth.metrics.ts, rate-limit.metrics.ts, …).
 */
@Module({ providers: [CacheDatabaseMetrics, CacheStoreMetrics] })
export class ObservabilityModule implements OnApplicationShutdown {
  /** The spans still buffered are exported before the process exits (a no-op without tracing). */
  onApplicationShutdown(): Promise<void> {
    return stopTracing();
  }
}
