import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { DATABASE_OPTIONS, DatabaseOptions } from './database.options';
import { PrismaClient } from './generated/prisma/client';
import { PrismaService } from './prisma.service';
import { QueryCounter } from './query-counter';

/** How often each replica's replay lag is measured (and a replica found down is probed again). */
const PROBE_INTERVAL_MS = 1_000;
const QUERY_TIMEOUT_MS = 5_000;

/**
 * Replay lag in milliseconds: 0 when the replica has applied all the WAL it received, else the age
 * of the last transaction it applied (a replica with WAL waiting is that far behind, at least).
 */
const LAG_SQL = `SELECT CASE
  WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
  ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000, 0)
END::float8 AS lag_ms`;

/** Why a read meant for a replica went to the primary. */
export type ReplicaFallbackReason = 'lagging' | 'down' | 'error';

interface Replica {
  readonly name: string;
  readonly pool: Pool;
  readonly client: PrismaClient;
  state: 'up' | 'lagging' | 'down';
  lagMs?: number;
}

/**
 * The PostgreSQL read replicas (DATABASE_REPLICA_URLS) and the rule for using them: only reads
 * that may be a little behind come here (lists, warming, sampling: see DESIGN.md "Scale-out");
 * anything that decides whether a credential or a session is valid reads the primary and never
 * calls this. A replica is used while its replay lag, measured every second, is within
 * `replicaMaxLagMs`; a replica lagging, down, or failing the read sends it to the primary, and
 * each such fallback is counted (`fallbacks`, the `auth_db_replica_fallbacks_total` series).
 */
@Injectable()
export class ReadReplicas implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private readonly replicas: Replica[];
  private next = 0;
  private timer?: NodeJS.Timeout;
  /** Statements sent to the replicas (the primary's are counted by PrismaService.queries). */
  readonly queries = new QueryCounter();
  readonly fallbacks = new EventEmitter<{ fallback: [ReplicaFallbackReason] }>();

  constructor(
    @Inject(DATABASE_OPTIONS) private readonly options: DatabaseOptions,
    private readonly primary: PrismaService,
  ) {
    this.replicas = (options.replicaUrls ?? []).map((url, i) => this.open(url, i));
  }

  get configured(): boolean {
    return this.replicas.length > 0;
  }

  /** Each replica's state as last measured, for health and tests (no URL: it may hold a password). */
  status(): { name: string; state: Replica['state']; lagMs?: number }[] {
    return this.replicas.map(({ name, state, lagMs }) => ({ name, state, lagMs }));
  }

  async onModuleInit(): Promise<void> {
    if (!this.configured) return;
    await this.probe();
    this.timer = setInterval(() => void this.probe(), PROBE_INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * Runs a read that may be served slightly behind on a usable replica (round robin), else on the
   * primary. A replica that fails the read is marked down until its next probe, and the read is
   * retried on the primary, so a replica's trouble never reaches the caller.
   */
  async read<T>(work: (db: PrismaClient) => Promise<T>): Promise<T> {
    if (!this.configured) return work(this.primary);
    const replica = this.pick();
    if (!replica) return work(this.primary);
    try {
      return await work(replica.client);
    } catch (error) {
      replica.state = 'down';
      this.logger.warn(`read replica ${replica.name} failed a read, using the primary: ${String(error)}`);
      this.fallbacks.emit('fallback', 'error');
      return work(this.primary);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all(
      this.replicas.map(async (r) => {
        await r.client.$disconnect().catch(() => undefined);
        await r.pool.end().catch(() => undefined);
      }),
    );
  }

  /** The next replica in turn that is up; none up: a fallback, counted with the first one's reason. */
  private pick(): Replica | undefined {
    for (let i = 0; i < this.replicas.length; i++) {
      const replica = this.replicas[(this.next + i) % this.replicas.length]!; // index within length
      if (replica.state === 'up') {
        this.next = (this.next + i + 1) % this.replicas.length;
        return replica;
      }
    }
    const reason = this.replicas.some((r) => r.state === 'lagging') ? 'lagging' : 'down';
    this.fallbacks.emit('fallback', reason);
    return undefined;
  }

  private async probe(): Promise<void> {
    await Promise.all(
      this.replicas.map(async (replica) => {
        const before = replica.state;
        try {
          const { rows } = await replica.pool.query<{ lag_ms: number }>(LAG_SQL);
          replica.lagMs = rows[0]?.lag_ms ?? 0;
          replica.state = replica.lagMs <= (this.options.replicaMaxLagMs ?? 0) ? 'up' : 'lagging';
        } catch {
          replica.lagMs = undefined;
          replica.state = 'down';
        }
        if (replica.state !== before)
          this.logger.log(`read replica ${replica.name}: ${before} → ${replica.state}`);
      }),
    );
  }

  private open(url: string, index: number): Replica {
    const pool = new Pool({
      connectionString: url,
      max: this.options.poolSize,
      connectionTimeoutMillis: 2_000,
      idleTimeoutMillis: 30_000,
      query_timeout: QUERY_TIMEOUT_MS,
      statement_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
    });
    pool.on('error', (err) => this.logger.warn(`read replica idle client error: ${err.message}`));
    const client = new PrismaClient({
      adapter: new PrismaPg(pool),
      log: [{ emit: 'event', level: 'query' }],
    });
    client.$on('query' as never, (event: { query: string; duration: number }) =>
      this.queries.record(event.query, event.duration),
    );
    // Down until the first probe says otherwise: nothing is sent to a replica never seen answering.
    return { name: `replica-${index + 1}`, pool, client, state: 'down' };
  }
}
