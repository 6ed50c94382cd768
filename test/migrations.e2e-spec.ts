import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { applyMigrations } from '../libs/database/src/migrations-runner';
import { createDatabase, dropDatabase, e2eAdminUrl } from './support/databases';

const MIGRATIONS = join(__dirname, '../prisma/migrations');

/** The runner the service uses at start, on its own scratch database. */
describe('migrations runner', () => {
  const dbName = `${process.env.E2E_DATABASE_NAME}_migrations`;
  let url: string;

  beforeAll(async () => {
    url = await createDatabase(e2eAdminUrl(), dbName);
  });
  afterAll(() => dropDatabase(e2eAdminUrl(), dbName));

  const rows = async () => {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      return (
        await c.query<{
          migration_name: string;
          checksum: string;
          finished_at: Date | null;
          applied_steps_count: number;
        }>(
          'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
        )
      ).rows;
    } finally {
      await c.end();
    }
  };

  it('applies every migration once and records it the way Prisma Migrate does', async () => {
    const names = readdirSync(MIGRATIONS, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    const first = await applyMigrations(url, MIGRATIONS);
    expect(first.applied).toEqual(names);
    const recorded = await rows();
    expect(recorded.map((r) => r.migration_name)).toEqual(names);
    for (const row of recorded) {
      const sql = readFileSync(join(MIGRATIONS, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it('is idempotent: a second run applies nothing', async () => {
    const again = await applyMigrations(url, MIGRATIONS);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toBeGreaterThan(0);
  });

  it('refuses to run when an applied migration was edited afterwards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    cpSync(MIGRATIONS, dir, { recursive: true });
    const first = readdirSync(dir, { withFileTypes: true }).find((d) => d.isDirectory())!.name;
    writeFileSync(
      join(dir, first, 'migration.sql'),
      readFileSync(join(dir, first, 'migration.sql'), 'utf8') + '\n-- edited\n',
    );
    await expect(applyMigrations(url, dir)).rejects.toThrow(/modified after it was applied/);
  });

  it('rolls a failing migration back and leaves it marked unfinished', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    cpSync(MIGRATIONS, dir, { recursive: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, '99990101000000_broken'));
    writeFileSync(
      join(dir, '99990101000000_broken', 'migration.sql'),
      'CREATE TABLE ok_part (id int);\nSELECT * FROM no_such_table;',
    );
    await expect(applyMigrations(url, dir)).rejects.toThrow(/99990101000000_broken failed/);
    const broken = (await rows()).find((r) => r.migration_name === '99990101000000_broken');
    expect(broken?.finished_at).toBeNull();
    const c = new Client({ connectionString: url });
    await c.connect();
    const exists = await c.query("SELECT to_regclass('public.ok_part') AS t");
    await c.end();
    expect(exists.rows[0].t).toBeNull();
    await expect(applyMigrations(url, MIGRATIONS)).rejects.toThrow(/must be resolved first/);
  });
});
