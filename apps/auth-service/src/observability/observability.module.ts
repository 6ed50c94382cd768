import { Module } from '@nestjs/common';
import { CacheDatabaseMetrics } from './cache-database.metrics';
import { CacheStoreMetrics } from './cache-store.metrics';

/**
 * The series of the shared infrastructure (cache, database, Redis). Each feature owns its own
 * series (sessions.metrics.ts, auth.metrics.ts, rate-limit.metrics.ts, …).
 */
@Module({ providers: [CacheDatabaseMetrics, CacheStoreMetrics] })
export class ObservabilityModule {}
