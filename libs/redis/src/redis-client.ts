import Redis, { Cluster, RedisOptions as IoRedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';
import { RedisOptions } from './redis.options';

export type RedisClient = Redis | Cluster;

function hostPort(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  return i > 0 ? { host: value.slice(0, i), port: Number(value.slice(i + 1)) } : { host: value, port: 6379 };
}

/** Credentials and TLS from the options, the URL's filling what the options leave unset. */
export function redisSecurity(options: RedisOptions): {
  username?: string;
  password?: string;
  tls?: ConnectionOptions;
} {
  const url = options.url ? new URL(options.url) : undefined;
  const username = options.username ?? (url?.username ? decodeURIComponent(url.username) : undefined);
  const password = options.password ?? (url?.password ? decodeURIComponent(url.password) : undefined);
  const tlsOn = options.tls === true || url?.protocol === 'rediss:';
  return {
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(tlsOn ? { tls: options.tlsCa ? { ca: options.tlsCa } : {} } : {}),
  };
}

/**
 * One ioredis client for any topology: standalone from the URL, a Cluster from its node list,
 * Sentinel from its sentinels, each with the same credentials and TLS. No offline queue: while
 * disconnected a command fails at once instead of waiting, because every caller treats Redis as
 * optional.
 */
export function createRedisClient(options: RedisOptions, connectionName = 'auth-service'): RedisClient {
  const security = redisSecurity(options);
  const common: IoRedisOptions = {
    connectionName,
    // Commands issued in the same tick go out in one write: fewer syscalls under load.
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: 2_000,
    lazyConnect: false,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2_000),
    ...security,
  };
  if (options.mode === 'cluster') {
    return new Redis.Cluster(options.nodes.map(hostPort), {
      redisOptions: common,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      // A moved slot or a failover is retried after a fresh slot map rather than failed at once.
      clusterRetryStrategy: (attempt: number) => Math.min(attempt * 200, 2_000),
    });
  }
  if (options.mode === 'sentinel') {
    return new Redis({
      ...common,
      sentinels: options.sentinels.map(hostPort),
      name: options.sentinelName,
      sentinelUsername: security.username,
      sentinelPassword: security.password,
      ...(security.tls ? { sentinelTLS: security.tls, enableTLSForSentinelMode: true } : {}),
      // After a failover the old master may come back as a replica: a client that still talks to
      // it would have its writes refused (READONLY). Ask the sentinels again instead.
      reconnectOnError: (error: Error) => error.message.startsWith('READONLY'),
      failoverDetector: true,
    });
  }
  if (!options.url) throw new Error('REDIS_URL is required in standalone mode');
  // Host, port and database from the URL; credentials and TLS already merged into `common` (ioredis
  // would let the URL's win over the options given beside it).
  const url = new URL(options.url);
  return new Redis({
    ...common,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: url.port ? Number(url.port) : 6379,
    db: Number(url.pathname.slice(1) || 0),
  });
}
