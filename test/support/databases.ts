/**
 * Scratch databases on the PostgreSQL server of a test or bench run: the run's own database, and
 * those of suites that must see a database nobody else writes to (fresh keys, exact row counts).
 */
import { join } from 'node:path';
import { Client } from 'pg';
import { applyMigrations } from '../../libs/database/src/migrations-runner';

const MIGRATIONS = join(__dirname, '../../prisma/migrations');

async function asAdmin(adminUrl: string, sql: string): Promise<void> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** The URL of database `name` on the server `adminUrl` points at. */
function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates an empty database `name`; answers its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  await asAdmin(adminUrl, `CREATE DATABASE "${name}"`);
  return databaseUrl(adminUrl, name);
}

/** Creates database `name` with every migration applied by the service's own runner; answers its URL. */
export async function createMigratedDatabase(adminUrl: string, name: string): Promise<string> {
  const url = await createDatabase(adminUrl, name);
  await applyMigrations(url, MIGRATIONS);
  return url;
}

/** Drops database `name`, closing whatever connections a failed test left open. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await asAdmin(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

/** The admin URL the e2e global setup chose (a spec's scratch databases go on the same server). */
export function e2eAdminUrl(): string {
  const url = process.env.E2E_ADMIN_DATABASE_URL;
  if (!url) throw new Error('E2E_ADMIN_DATABASE_URL is unset: run the e2e tests through jest (global setup)');
  return url;
}
