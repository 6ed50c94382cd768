import type { RedisClient } from '@app/redis';
import { CacheEvents } from './cache-events';
import { CircuitBreaker } from './circuit-breaker';

/** Thrown inside the store when a Redis call takes longer than its budget. */
class RedisTimeoutError extends Error {}

/**
 * The Redis tier. Every call is bounded by `timeoutMs` and guarded by a circuit breaker; a
 * failure is reported and answered as `undefined` ("unknown"), never thrown: the caller falls
 * back to the database.
 */
export class L2Store {
  constructor(
    private readonly client: RedisClient,
    private readonly breaker: CircuitBreaker,
    private readonly timeoutMs: number,
    private readonly events: CacheEvents,
  ) {}

  /** Connected (calls may still fail or be refused by the circuit breaker). */
  get ready(): boolean {
    return this.client.status === 'ready';
  }

  get(key: string): Promise<string | null | undefined> {
    return this.call('get', () => this.client.get(key));
  }

  mget(keys: string[]): Promise<(string | null)[] | undefined> {
    return this.call('mget', () => this.client.mget(...keys));
  }

  /** `onlyIfAbsent` (SET NX) for fills, so a slow fill never overwrites a newer write. */
  async set(
    key: string,
    value: string,
    ttlMs: number,
    options: { onlyIfAbsent?: boolean; tags?: string[] } = {},
  ): Promise<boolean> {
    const ttl = Math.max(1, Math.round(ttlMs));
    const tags = options.tags ?? [];
    const result = await this.call('set', async () => {
      if (tags.length === 0) {
        return options.onlyIfAbsent
          ? this.client.set(key, value, 'PX', ttl, 'NX')
          : this.client.set(key, value, 'PX', ttl);
      }
      const multi = this.client.multi();
      if (options.onlyIfAbsent) multi.set(key, value, 'PX', ttl, 'NX');
      else multi.set(key, value, 'PX', ttl);
      for (const tagSet of tags) {
        multi.sadd(tagSet, key);
        // The tag set lives as long as its longest-lived member could.
        multi.pexpire(tagSet, ttl, 'GT');
        multi.pexpire(tagSet, ttl, 'NX');
      }
      return multi.exec();
    });
    return result !== undefined;
  }

  /** `bypassBreaker`: a last attempt (at shutdown) that must not be skipped because the circuit is open. */
  async del(keys: string[], options: { bypassBreaker?: boolean } = {}): Promise<boolean> {
    if (keys.length === 0) return true;
    return (await this.call('del', () => this.client.del(...keys), options.bypassBreaker)) !== undefined;
  }

  /** Deletes every key carrying the tag and the tag set itself; the keys deleted, or undefined. */
  async invalidateTag(tagSet: string): Promise<string[] | undefined> {
    const members = await this.call('smembers', () => this.client.smembers(tagSet));
    if (members === undefined) return undefined;
    const deleted = await this.call('del', () => this.client.del(...members, tagSet));
    return deleted === undefined ? undefined : members;
  }

  /** SADD without waiting, timing or events: for cheap fire-and-forget bookkeeping. False when Redis is unusable. */
  saddQuietly(key: string, member: string): boolean {
    if (this.breaker.state !== 'closed' || this.client.status !== 'ready') return false;
    this.client.sadd(key, member).catch(() => undefined);
    return true;
  }

  /** Reads and deletes a set atomically (MULTI SMEMBERS DEL); undefined when Redis failed. */
  async drainSet(key: string): Promise<string[] | undefined> {
    const result = await this.call('drain', () => this.client.multi().smembers(key).del(key).exec());
    if (!result) return undefined;
    const [error, members] = result[0] ?? [];
    return error ? undefined : ((members as string[] | null) ?? []);
  }

  /** Round-trip time of a PING in milliseconds; undefined when Redis failed. */
  async ping(): Promise<number | undefined> {
    const started = performance.now();
    const pong = await this.call('ping', () => this.client.ping());
    return pong === undefined ? undefined : performance.now() - started;
  }

  /** Memory use and key count, from INFO memory and DBSIZE. */
  async info(): Promise<{ usedMemoryBytes: number; maxMemoryBytes: number; keys: number } | undefined> {
    const result = await this.call('info', () =>
      Promise.all([this.client.info('memory'), this.client.dbsize()]),
    );
    if (!result) return undefined;
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(result[0])?.[1] ?? 0);
    return { usedMemoryBytes: field('used_memory'), maxMemoryBytes: field('maxmemory'), keys: result[1] };
  }

  /** How many subscribers received the message; undefined when Redis failed. */
  publish(channel: string, message: string): Promise<number | undefined> {
    return this.call('publish', () => this.client.publish(channel, message));
  }

  private async call<T>(
    operation: string,
    run: () => Promise<T>,
    bypassBreaker = false,
  ): Promise<T | undefined> {
    if (!bypassBreaker && !this.breaker.allow()) return undefined;
    if (this.client.status !== 'ready') {
      // Disconnected: as good as a failed call (and it opens the circuit like one), minus the wait.
      this.breaker.failure();
      this.events.emit('error', {
        operation,
        error: new Error(`Redis not connected (${this.client.status})`),
      });
      return undefined;
    }
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        run(),
        new Promise<never>((_, reject) => {
          // The rejection waits for the check phase: when a blocked event loop (GC, argon2 on a
          // busy box) makes the timer and the reply due together, the poll phase hands over the
          // reply first, so a stalled process does not count a prompt Redis as failing.
          timer = setTimeout(
            () =>
              setImmediate(() =>
                reject(new RedisTimeoutError(`Redis ${operation} timed out after ${this.timeoutMs} ms`)),
              ),
            this.timeoutMs,
          );
        }),
      ]);
      this.breaker.success();
      this.events.emit('latency', { operation, seconds: (performance.now() - started) / 1000 });
      return result;
    } catch (error) {
      this.breaker.failure();
      this.events.emit('error', { operation, error: error as Error });
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
