import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { CacheDiagnostics, CacheService } from '@app/cache';
import { APP_CONFIG, AppConfig } from '../config/app-config';

type CheckStatus = 'ok' | 'warning' | 'critical';
interface HealthCheck {
  /** null when there is nothing to measure yet (no traffic, no Redis). */
  value: number | null;
  status: CheckStatus;
}
export interface CacheHealth {
  status: 'healthy' | 'degraded' | 'critical';
  checks: { hitRate: HealthCheck; errorRate: HealthCheck; latencyMs: HealthCheck; memoryUsage: HealthCheck };
  thresholds: AppConfig['cacheHealth'];
}

interface Totals {
  at: number;
  hits: number;
  loads: number;
  redisCalls: number;
  redisErrors: number;
}

const SNAPSHOT_EVERY_MS = 10_000;
const WINDOW_SNAPSHOTS = 30; // rates over the last 5 minutes
const MIN_LOOKUPS = 20;
const MIN_REDIS_CALLS = 20;

/**
 * Cache health against thresholds: hit rate and Redis error rate over the last five minutes (since
 * start until then), Redis round-trip time (a PING now) and memory use (used / maxmemory).
 */
@Injectable()
export class CacheHealthService implements OnModuleInit, OnModuleDestroy {
  private redisCalls = 0;
  private redisErrors = 0;
  private readonly snapshots: Totals[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly cache: CacheService,
    private readonly diagnostics: CacheDiagnostics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.cache.events.on('latency', () => this.redisCalls++);
    this.cache.events.on('error', () => {
      this.redisCalls++;
      this.redisErrors++;
    });
    this.timer = setInterval(() => {
      this.snapshots.push(this.totals());
      if (this.snapshots.length > WINDOW_SNAPSHOTS) this.snapshots.shift();
    }, SNAPSHOT_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async check(): Promise<CacheHealth> {
    const t = this.config.cacheHealth;
    const now = this.totals();
    const base = this.snapshots[0] ?? { at: 0, hits: 0, loads: 0, redisCalls: 0, redisErrors: 0 };
    const hits = now.hits - base.hits;
    const lookups = hits + (now.loads - base.loads);
    const calls = now.redisCalls - base.redisCalls;
    const errors = now.redisErrors - base.redisErrors;
    const [latency, info] = await Promise.all([this.diagnostics.ping(), this.diagnostics.redisInfo()]);
    const redis = this.diagnostics.redisConfigured;

    const hitRate = lookups >= MIN_LOOKUPS ? round((hits / lookups) * 100) : null;
    const errorRate = calls >= MIN_REDIS_CALLS ? round((errors / calls) * 100) : null;
    const latencyMs = latency === undefined ? null : round(latency);
    const memoryUsage =
      info && info.maxMemoryBytes > 0 ? round((info.usedMemoryBytes / info.maxMemoryBytes) * 100) : null;

    const checks = {
      hitRate: { value: hitRate, status: below(hitRate, t.hitRate) },
      errorRate: { value: errorRate, status: above(errorRate, t.errorRate) },
      // Redis configured but not answering a PING is critical.
      latencyMs: {
        value: latencyMs,
        status:
          redis && this.cache.enabled && latencyMs === null
            ? ('critical' as const)
            : above(latencyMs, t.latencyMs),
      },
      memoryUsage: { value: memoryUsage, status: above(memoryUsage, t.memoryUsage) },
    };
    const statuses = Object.values(checks).map((c) => c.status);
    const status = statuses.includes('critical')
      ? 'critical'
      : statuses.includes('warning')
        ? 'degraded'
        : 'healthy';
    return { status, checks, thresholds: t };
  }

  private totals(): Totals {
    const c = this.cache.counters;
    return {
      at: Date.now(),
      hits: c.hits.l1 + c.hits.l2,
      loads: c.loads,
      redisCalls: this.redisCalls,
      redisErrors: this.redisErrors,
    };
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

function above(value: number | null, t: { warning: number; critical: number }): CheckStatus {
  if (value === null) return 'ok';
  return value >= t.critical ? 'critical' : value >= t.warning ? 'warning' : 'ok';
}

function below(value: number | null, t: { warning: number; critical: number }): CheckStatus {
  if (value === null) return 'ok';
  return value < t.critical ? 'critical' : value < t.warning ? 'warning' : 'ok';
}
