export interface DatabaseOptions {
  /** A PostgreSQL URL; when absent an embedded PGlite under `dataDir` is started. */
  url?: string;
  dataDir: string;
  /** Apply pending migrations from `migrationsDir` before the first query. */
  migrateOnStart: boolean;
  migrationsDir: string;
  poolSize: number;
  /** Streaming replicas for reads that may lag (ReadReplicas); none: every read goes to the primary. */
  replicaUrls?: string[];
  /** A replica further behind than this (ms of replay lag) is skipped until it catches up. */
  replicaMaxLagMs?: number;
}

export const DATABASE_OPTIONS = Symbol('DATABASE_OPTIONS');
