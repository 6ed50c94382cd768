import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
// Both packages ship an ES module and a CommonJS build with separate declarations; the types are
// taken from the ES build because that is the one the lazy `import()` below loads.
import type { PGlite } from '@electric-sql/pglite' with { 'resolution-mode': 'import' };
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket' with { 'resolution-mode': 'import' };
import { PgliteSessionQueue } from './pglite-session-queue';

/**
 * PGlite served over the PostgreSQL wire protocol on loopback, so the embedded default goes
 * through exactly the same `pg` + Prisma code path as a real server. One process only:
 * PGlite's data directory must not be shared by two running instances.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly connectionString: string,
  ) {}

  static async start(dataDir: string): Promise<EmbeddedPostgres> {
    const dir = resolve(dataDir, 'pgdata');
    await mkdir(dir, { recursive: true });
    // Loaded lazily: the WASM build is only paid for when no DATABASE_URL is set.
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    // pg_trgm backs the admin user search's indexes (a migration creates the extension).
    const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
    const db = await PGlite.create(dir, { extensions: { pg_trgm } });
    const port = await freePort();
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 16 });
    // Its connections get their handlers' queue from this field at connect time (see the class).
    (server as unknown as { queryQueue: PgliteSessionQueue }).queryQueue = new PgliteSessionQueue(db);
    await server.start();
    return new EmbeddedPostgres(db, server, `postgresql://postgres@127.0.0.1:${port}/postgres`);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.db.close();
  }
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => ok(port));
    });
  });
}
