// What one request costs the service beyond time: database statements (the service's own
// /metrics), Redis commands (the private Redis's INFO commandstats, so every command counts, the
// rate limiter's included) and log bytes.
import autocannon from 'autocannon';
import type Redis from 'ioredis';
import type { Server } from './processes';

/**
 * Sum of a metric's series. Not per-request work: the periodic signing-key reload (every 10 s) and
 * PUBLISH (the invalidation channel's heartbeats, 10 a second).
 */
async function metricSum(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter(
      (l) =>
        l.startsWith(name) &&
        !l.startsWith('#') &&
        !l.includes('table="signing_keys"') &&
        !l.includes('operation="publish"'),
    )
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/**
 * Calls per command the Redis servers (a Cluster's masters: every one) have executed, all clients;
 * PUBLISH and INFO (heartbeats, this probe) left out.
 */
export async function redisCommandCounts(servers: Redis[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const redis of servers) {
    const info = await redis.info('commandstats');
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      const [, command, calls] = match as unknown as [string, string, string];
      if (command !== 'publish' && command !== 'info')
        counts.set(command, (counts.get(command) ?? 0) + Number(calls));
    }
  }
  return counts;
}

async function redisCommands(servers: Redis[]): Promise<number> {
  return [...(await redisCommandCounts(servers)).values()].reduce((a, b) => a + b, 0);
}

export interface PerRequest {
  requests: number;
  dbStatements: number;
  redisCommands: number;
  logBytes: number;
}

export interface Probe {
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * Database statements, Redis commands and log bytes per request of `probe` at steady state:
 * 300 requests to warm, then 5,000 counted. Redis's background rate (subscriptions, activity
 * flushes), measured over an idle second just before, is subtracted.
 */
export async function measurePerRequest(
  service: Server,
  probe: Probe,
  redis: Redis | Redis[],
): Promise<PerRequest> {
  const servers = Array.isArray(redis) ? redis : [redis];
  const run = (amount: number) =>
    autocannon({
      url: `${service.url}${probe.path}`,
      method: (probe.method ?? 'GET') as autocannon.Request['method'],
      headers: probe.headers,
      body: probe.body,
      connections: 8,
      amount,
    });
  await run(300);
  const idleStart = await redisCommands(servers);
  const idleFrom = Date.now();
  await new Promise((r) => setTimeout(r, 1_000));
  const idleRate = ((await redisCommands(servers)) - idleStart) / (Date.now() - idleFrom);

  const before = {
    q: await metricSum(service.url, 'auth_db_queries_total'),
    r: await redisCommands(servers),
    log: service.stdoutBytes(),
    at: Date.now(),
  };
  const result = await run(5_000);
  const elapsed = Date.now() - before.at;
  const r = (await redisCommands(servers)) - before.r - idleRate * elapsed;
  const requests = result.requests.total;
  if (result.non2xx > 0) throw new Error(`${probe.path}: ${result.non2xx} answers were not 2xx`);
  return {
    requests,
    dbStatements: ((await metricSum(service.url, 'auth_db_queries_total')) - before.q) / requests,
    redisCommands: Math.max(0, r) / requests,
    logBytes: (service.stdoutBytes() - before.log) / requests,
  };
}
