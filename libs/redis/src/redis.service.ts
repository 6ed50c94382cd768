import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { createRedisClient, RedisClient, SUBSCRIBER_OPTIONS } from './redis-client';
import { REDIS_OPTIONS, redisConfigured, RedisOptions } from './redis.options';

const BOOT_CONNECT_WAIT_MS = 1_000;

/** Holds the process's Redis connection, if one is configured. */
@Injectable()
export class RedisService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  readonly client?: RedisClient;
  private lastErrorLog = 0;

  constructor(@Inject(REDIS_OPTIONS) private readonly options: RedisOptions) {
    if (!redisConfigured(options)) return;
    this.client = createRedisClient(options);
    this.client.on('error', (error: Error) => {
      // One line per burst, not one per reconnect attempt.
      if (Date.now() - this.lastErrorLog > 10_000) {
        this.lastErrorLog = Date.now();
        this.logger.warn(`Redis unavailable: ${error.message}`);
      }
    });
  }

  /**
   * Waits (at most BOOT_CONNECT_WAIT_MS) for the first connection attempt to end either way. The
   * client has no offline queue, so without this a write made at boot (the first admin's
   * write-through) could fail only because the socket was still opening. Redis down or hanging
   * does not hold the boot longer than the bound: Redis is optional.
   */
  async onModuleInit(): Promise<void> {
    const client = this.client;
    if (!client || client.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        client.off('error', done);
        client.off('end', done);
        resolve();
      };
      const timer = setTimeout(done, BOOT_CONNECT_WAIT_MS);
      client.once('ready', done);
      client.once('error', done);
      client.once('end', done);
    });
  }

  /**
   * A second connection to the same Redis, for pub/sub (a subscribed connection can do nothing
   * else): no command timeout, and the caller subscribes again on every 'ready' (SUBSCRIBER_OPTIONS).
   */
  duplicate(): RedisClient | undefined {
    if (!this.client) return undefined;
    const copy = createRedisClient(this.options, 'auth-service-subscriber', SUBSCRIBER_OPTIONS);
    copy.on('error', () => undefined);
    return copy;
  }

  get configured(): boolean {
    return this.client !== undefined;
  }

  /** True when Redis answers PING within `timeoutMs`. */
  async ping(timeoutMs = 1_000): Promise<boolean> {
    if (!this.client) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([
        this.client.ping().then(
          (r) => r === 'PONG',
          () => false,
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.client) return;
    await this.client.quit().catch(() => this.client?.disconnect());
  }
}
