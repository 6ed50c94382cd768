import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { CacheService } from '@app/cache';
import { MetricsService } from '@app/metrics';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram } from 'prom-client';
import { addHookToRoute, OnSendHook } from '../bootstrap/route-hooks';
import { errorCode, outcome } from './answer-outcome';
import { SessionsRepository } from '../sessions/sessions.repository';

const LOGIN_ROUTE = '/api/v1/auth/login';
const REFRESH_ROUTE = '/api/v1/auth/refresh';

/**
 * The service-level series beyond the cache's own: logins, refreshes, revocations, L1 size, Redis memory and keys, warming, consistency checks and the session
 * activity write-behind. Every label value is bounded.
 */
@Injectable()
export class OpsMetrics implements OnModuleInit {
  readonly logins: Counter<'result'>;
  readonly refreshes: Counter<'result'>;
  readonly revocations: Counter<'reason'>;
  readonly warmRuns: Counter<'trigger' | 'result'>;
  readonly warmedEntries: Counter<'entity'>;
  readonly warmInProgress: Gauge;
  readonly warmDuration: Gauge;
  readonly consistencyChecks: Counter<'entity' | 'result'>;
  readonly consistencyRepairs: Counter<'entity'>;
  readonly activityRecorded: Counter<'store'>;
  readonly activityFlushed: Counter;
  readonly activityFlushFailures: Counter;
  readonly activityFlushSeconds: Histogram;
  readonly activityPending: Gauge;
  private redisSample?: { at: number; value: Promise<Awaited<ReturnType<CacheService['redisInfo']>>> };

  constructor(
    metrics: MetricsService,
    cache: CacheService,
    private readonly adapterHost: HttpAdapterHost,
    private readonly sessions: SessionsRepository,
  ) {
    this.countOutcomesOnAuthRoutes();
    const registers = [metrics.registry];
    this.logins = new Counter({
      name: 'auth_logins_total',
      help: 'Password logins by result (success, invalid_credentials, rate_limited, rejected, error)',
      labelNames: ['result'],
      registers,
    });
    this.refreshes = new Counter({
      name: 'auth_token_refreshes_total',
      help: 'Refresh-token rotations by result (success, reuse_detected, invalid, rate_limited, rejected, error)',
      labelNames: ['result'],
      registers,
    });
    this.revocations = new Counter({
      name: 'auth_session_revocations_total',
      help: 'Sessions revoked, by reason',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'auth_cache_l1_entries',
      help: 'Entries held in the in-process cache (L1)',
      registers,
      collect() {
        this.set(cache.l1Size);
      },
    });
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
    type RedisInfo = NonNullable<Awaited<ReturnType<CacheService['redisInfo']>>>;
    // One INFO + DBSIZE per scrape at most (the three gauges share the sample for 5 s).
    const sample = () => {
      if (!this.redisSample || Date.now() - this.redisSample.at > 5_000) {
        this.redisSample = { at: Date.now(), value: cache.redisInfo() };
      }
      return this.redisSample.value;
    };
    redisGauge('auth_redis_memory_used_bytes', 'Redis used_memory (INFO memory)', (i) => i.usedMemoryBytes);
    redisGauge('auth_redis_memory_max_bytes', 'Redis maxmemory, 0 when unlimited', (i) => i.maxMemoryBytes);
    redisGauge('auth_redis_keys', 'Keys in the Redis database (DBSIZE)', (i) => i.keys);
    this.warmRuns = new Counter({
      name: 'auth_cache_warm_runs_total',
      help: 'Cache warming runs by trigger (start, admin) and result (completed, failed, skipped)',
      labelNames: ['trigger', 'result'],
      registers,
    });
    this.warmedEntries = new Counter({
      name: 'auth_cache_warmed_entries_total',
      help: 'Entries loaded into the cache by warming, by entity',
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

  onModuleInit(): void {
    this.sessions.revocations.on('revoked', ({ reason, count }) => this.revocations.inc({ reason }, count));
  }

  /**
   * Counts login and refresh outcomes from their answers, with an onSend hook put on those two
   * routes only (fastify calls `onRoute` as routes are added, before modules' init hooks run, so
   * this runs from the constructor): a global hook would cost every other request.
   */
  private countOutcomesOnAuthRoutes(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    const countingWith =
      (count: (status: number, code: string | undefined) => void): OnSendHook =>
      (_request, reply, payload, done) => {
        count(reply.statusCode, errorCode(payload));
        done(null, payload);
      };
    addHookToRoute(
      fastify,
      { method: 'POST', url: LOGIN_ROUTE },
      'onSend',
      countingWith((status, code) =>
        this.logins.inc({ result: outcome(status, code, { invalid_credentials: 'invalid_credentials' }) }),
      ),
    );
    addHookToRoute(
      fastify,
      { method: 'POST', url: REFRESH_ROUTE },
      'onSend',
      countingWith((status, code) =>
        this.refreshes.inc({
          result: outcome(status, code, {
            refresh_token_reused: 'reuse_detected',
            invalid_refresh_token: 'invalid',
          }),
        }),
      ),
    );
  }
}
