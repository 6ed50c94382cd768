export interface DatabaseOptions {
  /** A PostgreSQL URL; when absent an embedded PGlite under `dataDir` is started. */
  url?: string;
  dataDir: string;
  /** Apply pending migrations from `migrationsDir` before the first query. */
  migrateOnStart: boolean;
  migrationsDir: string;
  poolSize: number;
}

export const DATABASE_OPTIONS = Symbol('DATABASE_OPTIONS');
