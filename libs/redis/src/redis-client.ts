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
 * What a pub/sub connection changes: no command timeout (a SUBSCRIBE is on no request's path, and
 * one cut short under load would leave the connection unsubscribed), and no automatic resubscribe
 * after a reconnect: ioredis sends it without handling its failure (an unhandled rejection, which
 * ends the process), and the subscriber subscribes again itself on every 'ready'.
 */
export const SUBSCRIBER_OPTIONS: Partial<IoRedisOptions> = {
  commandTimeout: undefined,
  autoResubscribe: false,
};

/**
 * How ioredis's error begins when a reply arrives while no command waits for one: the
 * connection's replies are out of step with its commands (one may already have gone to the wrong
 * command), so createRedisClient drops that connection and opens another. Redis answers each
 * command once; only a link that delivers bytes twice has done this (the e2e TCP proxy once did).
 * A nil reply in that state makes ioredis 6.0 throw a TypeError from its socket handler instead,
 * which no listener can catch.
 */
const OUT_OF_STEP = 'Command queue state error';

/** How long after an aborted reconnection a Sentinel client tries again. */
const RECONNECT_AFTER_ABORT_MS = 500;

/**
 * One ioredis client for any topology: standalone from the URL, a Cluster from its node list,
 * Sentinel from its sentinels, each with the same credentials and TLS. No offline queue: while
 * disconnected a command fails at once instead of waiting, because every caller treats Redis as
 * optional.
 */
export function createRedisClient(
  options: RedisOptions,
  connectionName = 'auth-service',
  overrides: Partial<IoRedisOptions> = {},
): RedisClient {
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
    ...overrides,
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
    const client = new Redis({
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
    reconnectAfterAbortedConnect(client);
    reconnectWhenOutOfStep(client);
    return client;
  }
  if (!options.url) throw new Error('REDIS_URL is required in standalone mode');
  // Host, port and database from the URL; credentials and TLS already merged into `common` (ioredis
  // would let the URL's win over the options given beside it).
  const url = new URL(options.url);
  const client = new Redis({
    ...common,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: url.port ? Number(url.port) : 6379,
    db: Number(url.pathname.slice(1) || 0),
  });
  reconnectWhenOutOfStep(client);
  return client;
}

/** See OUT_OF_STEP: pending commands fail, the next ones go out on a fresh connection. */
function reconnectWhenOutOfStep(client: Redis): void {
  client.on('error', (error: Error) => {
    if (error.message.startsWith(OUT_OF_STEP)) client.disconnect(true);
  });
}

/**
 * ioredis (6.0) gives a Sentinel client up for good ('end') when its failover detector hears
 * +switch-master while the client is between two reconnection attempts (the master died, the
 * client is asking the sentinels): the detector's disconnect aborts the connection being made,
 * and a connect that fails that way is not retried. The service would then run without Redis
 * until restarted, so an 'end' straight after 'connecting' that nobody asked for (`disconnect()`
 * or `quit()` set `manuallyClosing`) connects again.
 */
function reconnectAfterAbortedConnect(client: Redis): void {
  let previous = client.status;
  for (const status of ['connecting', 'connect', 'ready', 'close', 'reconnecting'] as const) {
    client.on(status, () => (previous = status));
  }
  client.on('end', () => {
    const askedFor = (client as unknown as { manuallyClosing?: boolean }).manuallyClosing === true;
    if (previous !== 'connecting' || askedFor) return;
    setTimeout(() => {
      if (client.status === 'end') client.connect().catch(() => undefined);
    }, RECONNECT_AFTER_ABORT_MS).unref();
  });
}
