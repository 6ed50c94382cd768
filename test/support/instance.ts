import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { createApp } from '../../apps/auth-service/src/create-app';
import { loadConfig } from '../../apps/auth-service/src/config/app-config';
import { HttpClient } from './http';

export const INTROSPECTION_CLIENT = {
  id: 'e2e-resource-server',
  secret: 'e2e-introspection-secret-0123456789',
};

/** The Authorization header of INTROSPECTION_CLIENT. */
export const INTROSPECTION_BASIC = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:${INTROSPECTION_CLIENT.secret}`).toString('base64')}`;

export interface Instance {
  url: string;
  http: HttpClient;
  app: NestFastifyApplication;
  close(): Promise<void>;
}

/**
 * This test file's part of the key prefix (Jest evaluates this module once per test file). A prefix
 * is also an invalidation channel, and a strict write waits up to CACHE_L1_STRICT_TRUST_MS for
 * every instance on its channel to acknowledge: an instance that another suite cuts off from
 * Redis on purpose must not hold up this file's writes.
 */
const FILE_TAG = randomBytes(3).toString('hex');

/**
 * The environment every instance of one test file shares: the run's database and Redis, and a key
 * prefix of the file's own (`e2e_<run id>_<file tag>`; the global teardown removes `e2e_<run id>*`).
 */
export function baseEnv(): Record<string, string> {
  const required = ['E2E_DATABASE_URL', 'E2E_REDIS_URL', 'E2E_RUN_ID'] as const;
  for (const name of required) {
    if (!process.env[name])
      throw new Error(`${name} is not set: run the e2e tests through jest (npm test) so global-setup runs`);
  }
  return {
    // Background jobs off unless a test asks for one: tests that count queries and Redis round
    // trips must not see a warming run, a consistency sample or an activity flush among them.
    CACHE_WARM_ON_START: 'false',
    CACHE_CONSISTENCY_SAMPLE_INTERVAL_MS: '0',
    ACTIVITY_FLUSH_INTERVAL_MS: '0',
    DATABASE_URL: process.env.E2E_DATABASE_URL!,
    DATABASE_POOL_SIZE: '5',
    DB_MIGRATE_ON_START: 'false',
    REDIS_URL: process.env.E2E_REDIS_URL!,
    CACHE_KEY_PREFIX: `e2e_${process.env.E2E_RUN_ID}_${FILE_TAG}`,
    COOKIE_SECURE: 'false',
    RATE_LIMIT_ENABLED: 'false',
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'fatal',
    INTROSPECTION_CLIENTS: `${INTROSPECTION_CLIENT.id}:${INTROSPECTION_CLIENT.secret}`,
    APP_URL: 'http://auth.e2e.test',
  };
}

/**
 * A whole service instance, listening on a spare loopback port. Start two or more against the
 * same database and Redis to test what crosses instances.
 */
export async function startInstance(overrides: Record<string, string | undefined> = {}): Promise<Instance> {
  const env = { ...baseEnv(), ...overrides };
  const config = loadConfig(
    Object.fromEntries<string | undefined>(Object.entries(env).filter(([, v]) => v !== undefined)),
  );
  const app = await createApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { url, http: new HttpClient(url), app, close: () => app.close() };
}
