import { Injectable, OnModuleInit } from '@nestjs/common';
import { CacheService, CIRCUIT_GAUGE_VALUE } from '@app/cache';
import { PrismaService, ReadReplicas } from '@app/database';
import { MetricsService } from '@app/metrics';
import { Counter, Gauge, Histogram } from 'prom-client';

/** Turns the cache's and the database's events into Prometheus series (label values are bounded). */
@Injectable()
export class CacheDatabaseMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly cache: CacheService,
    private readonly prisma: PrismaService,
    private readonly replicas: ReadReplicas,
  ) {}

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    const queries = new Counter({
      name: 'auth_db_queries_total',
      help: 'SQL statements sent to PostgreSQL, by table and statement kind',
      labelNames: ['table', 'kind'],
      registers,
    });
    // Two lookups per authenticated request: counted in plain numbers, handed to prom-client when
    // it is scraped, instead of prom-client hashing a label set on every lookup.
    const lookupCounts = new Map<
      string,
      { labels: Record<'tier' | 'entity' | 'result', string>; n: number }
    >();
    const countLookup = (tier: string, entity: string, result: string) => {
      const key = `${tier} ${entity} ${result}`;
      const entry = lookupCounts.get(key);
      if (entry) entry.n++;
      else lookupCounts.set(key, { labels: { tier, entity, result }, n: 1 });
    };
    new Counter({
      name: 'auth_cache_lookups_total',
      help: 'Cache lookups by tier (l1, l2), entity and result (hit, miss)',
      labelNames: ['tier', 'entity', 'result'],
      registers,
      collect() {
        this.reset();
        for (const { labels, n } of lookupCounts.values()) this.inc(labels, n);
      },
    });
    const loads = new Counter({
      name: 'auth_cache_loads_total',
      help: 'Values loaded from PostgreSQL on a cache miss, by entity',
      labelNames: ['entity'],
      registers,
    });
    const errors = new Counter({
      name: 'auth_cache_errors_total',
      help: 'Redis calls that failed or timed out, by operation',
      labelNames: ['operation'],
      registers,
    });
    const redisSeconds = new Histogram({
      name: 'auth_cache_redis_duration_seconds',
      help: 'Duration of Redis calls by operation (its count is the number of round trips)',
      labelNames: ['operation'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05],
      registers,
    });
    const invalidations = new Counter({
      name: 'auth_cache_invalidations_total',
      help: 'Keys invalidated across instances, sent and received',
      labelNames: ['direction'],
      registers,
    });
    const circuit = new Gauge({
      name: 'auth_cache_circuit_state',
      help: 'Redis circuit breaker: 0 closed, 1 half-open, 2 open',
      registers,
    });

    const replicaQueries = new Counter({
      name: 'auth_db_replica_queries_total',
      help: 'SQL statements sent to the PostgreSQL read replicas, by table and statement kind',
      labelNames: ['table', 'kind'],
      registers,
    });
    const replicaFallbacks = new Counter({
      name: 'auth_db_replica_fallbacks_total',
      help: 'Reads meant for a read replica that went to the primary, by reason (lagging, down, error)',
      labelNames: ['reason'],
      registers,
    });

    this.prisma.queries.on('query', ({ table, kind }) => queries.inc({ table, kind }));
    this.replicas.queries.on('query', ({ table, kind }) => replicaQueries.inc({ table, kind }));
    this.replicas.fallbacks.on('fallback', (reason) => replicaFallbacks.inc({ reason }));
    const events = this.cache.events;
    events.on('hit', ({ tier, entity }) => countLookup(tier, entity, 'hit'));
    events.on('miss', ({ tier, entity }) => countLookup(tier, entity, 'miss'));
    events.on('load', ({ entity }) => loads.inc({ entity }));
    events.on('error', ({ operation }) => errors.inc({ operation }));
    events.on('latency', ({ operation, seconds }) => redisSeconds.observe({ operation }, seconds));
    events.on('invalidation', ({ direction, keys }) => invalidations.inc({ direction }, keys));
    events.on('circuit', ({ state }) => circuit.set(CIRCUIT_GAUGE_VALUE[state]));
    circuit.set(CIRCUIT_GAUGE_VALUE[this.cache.breaker.state]);
  }
}
