import { randomBytes } from 'node:crypto';
import { createMigratedDatabase } from './databases';
import {
  canConnectPg,
  canConnectRedis,
  DEFAULT_PG_URL,
  DEFAULT_REDIS_URL,
  HOW_TO_GET_POSTGRES,
  HOW_TO_GET_REDIS,
  startThrowawayPostgres,
  startThrowawayRedis,
  ThrowawayServer,
} from './servers';

/** Shared with global-teardown (same process). */
export const started: ThrowawayServer[] = [];
(globalThis as { __e2eStarted?: ThrowawayServer[] }).__e2eStarted = started;

/**
 * One fresh database per run, migrated with the same runner the service uses; PostgreSQL and
 * Redis from TEST_DATABASE_URL / TEST_REDIS_URL, else the local servers, else throwaway ones.
 */
export default async function globalSetup(): Promise<void> {
  let adminUrl = process.env.TEST_DATABASE_URL ?? DEFAULT_PG_URL;
  if (!(await canConnectPg(adminUrl))) {
    const throwaway = process.env.TEST_DATABASE_URL ? undefined : await startThrowawayPostgres();
    if (!throwaway) throw new Error(`Cannot reach PostgreSQL at ${redact(adminUrl)}. ${HOW_TO_GET_POSTGRES}`);
    console.log(`\n[e2e] local PostgreSQL not reachable: started a throwaway cluster at ${throwaway.url}`);
    started.push(throwaway);
    adminUrl = throwaway.url;
  }

  let redisUrl = process.env.TEST_REDIS_URL ?? DEFAULT_REDIS_URL;
  if (!(await canConnectRedis(redisUrl))) {
    const throwaway = process.env.TEST_REDIS_URL ? undefined : await startThrowawayRedis();
    if (!throwaway) throw new Error(`Cannot reach Redis at ${redact(redisUrl)}. ${HOW_TO_GET_REDIS}`);
    console.log(`\n[e2e] local Redis not reachable: started a throwaway redis-server at ${throwaway.url}`);
    started.push(throwaway);
    redisUrl = throwaway.url;
  }

  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbName = `auth_e2e_${runId}`;
  const dbUrl = await createMigratedDatabase(adminUrl, dbName);

  process.env.E2E_ADMIN_DATABASE_URL = adminUrl;
  process.env.E2E_DATABASE_NAME = dbName;
  process.env.E2E_DATABASE_URL = dbUrl;
  process.env.E2E_REDIS_URL = redisUrl;
  process.env.E2E_RUN_ID = runId;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
