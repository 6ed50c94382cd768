import { Logger } from '@nestjs/common';
import { EmbeddedPostgres } from './embedded-postgres';
import { DatabaseOptions } from './database.options';
import { applyMigrations } from './migrations-runner';

/** Where the database is: a real server from the URL, or the embedded default started here. */
export class DatabaseConnection {
  private constructor(
    readonly url: string,
    private readonly embedded?: EmbeddedPostgres,
  ) {}

  static async open(options: DatabaseOptions, logger = new Logger('Database')): Promise<DatabaseConnection> {
    let embedded: EmbeddedPostgres | undefined;
    let url = options.url;
    if (!url) {
      embedded = await EmbeddedPostgres.start(options.dataDir);
      url = embedded.connectionString;
      logger.log(`No DATABASE_URL: using the embedded PostgreSQL (PGlite) under ${options.dataDir}`);
    }
    if (options.migrateOnStart) {
      const result = await applyMigrations(url, options.migrationsDir);
      if (result.applied.length > 0) logger.log(`Applied migrations: ${result.applied.join(', ')}`);
    }
    return new DatabaseConnection(url, embedded);
  }

  get isEmbedded(): boolean {
    return this.embedded !== undefined;
  }

  async close(): Promise<void> {
    await this.embedded?.stop();
  }
}
