import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Client, Pool } from 'pg';
import { DatabaseConnection } from './database-connection';
import { PrismaClient } from './generated/prisma/client';
import { QueryCounter } from './query-counter';

const QUERY_TIMEOUT_MS = 5_000;

/** The one Prisma client of the process, on a `pg` pool through the driver adapter (no native engine). */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');

  constructor(
    private readonly connection: DatabaseConnection,
    readonly pool: Pool,
  ) {
    super({ adapter: new PrismaPg(pool), log: [{ emit: 'event', level: 'query' }] });
    pool.on('error', (err) => this.logger.warn(`idle client error: ${err.message}`));
    this.$on('query' as never, (event: { query: string; duration: number }) =>
      this.queries.record(event.query, event.duration),
    );
  }

  /** Every SQL statement Prisma sends, counted by table and kind (metrics, and tests that count queries). */
  readonly queries = new QueryCounter();

  static create(connection: DatabaseConnection, poolSize: number): PrismaService {
    const pool = new Pool({
      connectionString: connection.url,
      max: poolSize,
      connectionTimeoutMillis: 3_000,
      idleTimeoutMillis: 30_000,
      // A server that accepts connections but never answers must not hang requests: fail them.
      query_timeout: QUERY_TIMEOUT_MS,
      statement_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
    });
    return new PrismaService(connection, pool);
  }

  /** Whether this is the embedded PGlite (one process only). */
  get embedded(): boolean {
    return this.connection.isEmbedded;
  }

  /**
   * A connection of its own, outside the pool, for work that holds one (LISTEN); the caller
   * connects and ends it.
   */
  dedicatedClient(): Client {
    return new Client({
      connectionString: this.connection.url,
      connectionTimeoutMillis: 3_000,
      keepAlive: true,
    });
  }

  /** True when PostgreSQL answers a trivial query within `timeoutMs`. */
  async ping(timeoutMs = 2_000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const query = this.pool.query('SELECT 1').then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([query, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
    await this.connection.close();
  }
}
