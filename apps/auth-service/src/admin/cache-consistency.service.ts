import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { CacheService } from '@app/cache';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { CacheOpsMetrics } from './cache-ops.metrics';
import { toCacheableUser } from '../users/public-user';
import { UsersRepository } from '../users/users.repository';

export interface ConsistencyResult {
  consistent: boolean;
  fixed: boolean;
  /** Names of the fields (or `entry`) where the cache and the database disagree; never values. */
  differences: string[];
}

/**
 * Compares a cached user with its row and repairs drift (write-through of the row); a background
 * sampler checks CACHE_CONSISTENCY_SAMPLE_SIZE random users every CACHE_CONSISTENCY_SAMPLE_INTERVAL_MS.
 */
@Injectable()
export class CacheConsistencyService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('CacheConsistency');
  private timer?: NodeJS.Timeout;
  private sampling = false;

  constructor(
    private readonly cache: CacheService,
    private readonly users: UsersRepository,
    private readonly metrics: CacheOpsMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const interval = this.config.cacheOps.consistencySampleIntervalMs;
    if (interval > 0 && this.cache.enabled) {
      this.timer = setInterval(() => void this.sample(), interval);
      this.timer.unref();
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async validateUser(id: string): Promise<ConsistencyResult> {
    try {
      const [cached, row] = await Promise.all([this.users.peekCached(id), this.users.readFromDatabase(id)]);
      const differences = diffUser(cached.value, row ? toCacheableUser(row) : null);
      if (differences.length === 0) {
        this.metrics.consistencyChecks.inc({ entity: 'user', result: 'consistent' });
        return { consistent: true, fixed: false, differences };
      }
      this.metrics.consistencyChecks.inc({ entity: 'user', result: 'drift' });
      await this.users.refresh(id);
      this.metrics.consistencyRepairs.inc({ entity: 'user' });
      this.logger.warn(`Cache drift repaired for user ${id}: ${differences.join(', ')}`);
      return { consistent: false, fixed: true, differences };
    } catch (error) {
      this.metrics.consistencyChecks.inc({ entity: 'user', result: 'error' });
      throw error;
    }
  }

  /** One round of the background sampler; answers how many drifts it repaired. */
  async sample(): Promise<number> {
    if (this.sampling) return 0;
    this.sampling = true;
    try {
      const ids = await this.users.randomIds(this.config.cacheOps.consistencySampleSize);
      let repaired = 0;
      for (const id of ids) if ((await this.validateUser(id)).fixed) repaired++;
      return repaired;
    } catch (error) {
      this.logger.warn(
        `Consistency sample failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return 0;
    } finally {
      this.sampling = false;
    }
  }
}

/** Field names that differ; an entry not cached at all is consistent (nothing can be served stale). */
function diffUser(cached: object | null | undefined, row: object | null): string[] {
  if (cached === undefined) return [];
  if (cached === null || row === null) return cached === row ? [] : ['entry'];
  const a = cached as Record<string, unknown>;
  const b = row as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}
