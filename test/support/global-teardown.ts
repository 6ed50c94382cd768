import Redis from 'ioredis';
import { dropDatabase } from './databases';
import type { ThrowawayServer } from './servers';
import { cleanUpTopologies } from './topologies/processes';

export default async function globalTeardown(): Promise<void> {
  const {
    E2E_ADMIN_DATABASE_URL: adminUrl,
    E2E_DATABASE_NAME: dbName,
    E2E_REDIS_URL: redisUrl,
    E2E_RUN_ID: runId,
  } = process.env;
  if (adminUrl && dbName && !process.env.E2E_KEEP_DATABASE) {
    await dropDatabase(adminUrl, dbName);
  }
  if (redisUrl && runId) {
    // Only this run's keys: the Redis may be shared.
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    const keys = await redis.keys(`e2e_${runId}*`).catch(() => [] as string[]);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
  for (const server of (globalThis as { __e2eStarted?: ThrowawayServer[] }).__e2eStarted ?? []) server.stop();
  if (runId) {
    // Servers a topology test left running (it failed before its stop(), or Jest killed its worker).
    const leftovers = cleanUpTopologies(runId);
    if (leftovers > 0) console.warn(`\n[e2e] killed ${leftovers} topology server(s) a test left running`);
  }
}
