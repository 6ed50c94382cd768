import { Injectable } from '@nestjs/common';
import { CacheDiagnostics, RedisInfo } from '@app/cache';
import { MetricsService } from '@app/metrics';
import { Gauge } from 'prom-client';

/** How full the cache's two tiers are: L1 entries, and Redis memory and keys, read when scraped. */
@Injectable()
export class CacheStoreMetrics {
  private redisSample?: { at: number; value: Promise<RedisInfo | undefined> };

  constructor(metrics: MetricsService, cache: CacheDiagnostics) {
    const registers = [metrics.registry];
    new Gauge({
      name: 'auth_cache_l1_entries',
      help: 'Entries held in the in-process cache (L1)',
      registers,
      collect() {
        this.set(cache.l1Size);
      },
    });
    // One INFO + DBSIZE per scrape at most (the three gauges share the sample for 5 s).
    const sample = () => {
      if (!this.redisSample || Date.now() - this.redisSample.at > 5_000) {
        this.redisSample = { at: Date.now(), value: cache.redisInfo() };
      }
      return this.redisSample.value;
    };
    const redisGauge = (name: string, help: string, pick: (i: RedisInfo) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect: async function (this: Gauge) {
          const info = await sample();
          if (info) this.set(pick(info));
        },
      });
    redisGauge('auth_redis_memory_used_bytes', 'Redis used_memory (INFO memory)', (i) => i.usedMemoryBytes);
    redisGauge('auth_redis_memory_max_bytes', 'Redis maxmemory, 0 when unlimited', (i) => i.maxMemoryBytes);
    redisGauge('auth_redis_keys', 'Keys in the Redis database (DBSIZE)', (i) => i.keys);
  }
}
