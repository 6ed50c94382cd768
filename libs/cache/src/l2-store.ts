import type { RedisClient } from '@app/redis';
import { randomBytes } from 'node:crypto';
import { CacheEvents } from './cache-events';
import { CircuitBreaker } from './circuit-breaker';
import { entryScripts, EntryScripts } from './entry-scripts';
import { CacheInternalKeys } from './internal-keys';

/**
 * How long an entry's version ticket outlives its last write: longer than any fill takes (a fill
 * is one database read, bounded by the statement timeout), so a fill that started before the
 * write always finds the ticket changed.
 */
const VERSION_TTL_MS = 10 * 60_000;

const ticket = () => randomBytes(9).toString('base64url');

/** Thrown inside the store when a Redis call takes longer than its budget. */
class RedisTimeoutError extends Error {}

/**
 * The Redis tier. Every call is bounded by `timeoutMs` and guarded by a circuit breaker; a
 * failure is reported and answered as `undefined` ("unknown"), never thrown: the caller falls
 * back to the database.
 */
export class L2Store {
  private readonly scripts: EntryScripts;

  constructor(
    private readonly client: RedisClient,
    private readonly breaker: CircuitBreaker,
    private readonly timeoutMs: number,
    private readonly events: CacheEvents,
    private readonly keys: CacheInternalKeys,
  ) {
    this.scripts = entryScripts(client);
  }

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

  /**
   * Write-through: replaces the entry and stamps a new version ticket, so that a fill which read
   * the database before this write cannot store what it read (see entry-scripts.ts).
   */
  async set(key: string, value: string, ttlMs: number, tags: string[] = []): Promise<boolean> {
    const ttl = Math.max(1, Math.round(ttlMs));
    const result = await this.call('set', async () => {
      await this.addToTags(tags, key, ttl);
      return this.scripts.cacheEntryWrite(key, this.keys.version(key), value, ttl, ticket(), VERSION_TTL_MS);
    });
    return result !== undefined;
  }

  /**
   * A fill's store: only when no entry exists and the entry's version ticket is still `readTicket`,
   * the one read before loading (null: there was none). False when not stored (an entry or a newer
   * write got there first), undefined when Redis failed.
   */
  async fill(
    key: string,
    value: string,
    ttlMs: number,
    readTicket: string | null,
    tags: string[] = [],
  ): Promise<boolean | undefined> {
    const ttl = Math.max(1, Math.round(ttlMs));
    const stored = await this.call('set', async () => {
      await this.addToTags(tags, key, ttl);
      return this.scripts.cacheEntryFill(key, this.keys.version(key), value, ttl, readTicket ?? '');
    });
    return stored === undefined ? undefined : stored === 1;
  }

  /** The entry and its version ticket, in one round trip (they share a slot); undefined when Redis failed. */
  async getWithTicket(key: string): Promise<{ value: string | null; ticket: string | null } | undefined> {
    const result = await this.call('get', () => this.client.mget(key, this.keys.version(key)));
    return result && { value: result[0] ?? null, ticket: result[1] ?? null };
  }

  /**
   * Deletes entries and stamps their version tickets. One script per key, each in its key's own
   * slot: keys of different slots never meet in one command (a Redis Cluster refuses that), and
   * the client pipelines the scripts into one write. `bypassBreaker`: a last attempt (at
   * shutdown) that must not be skipped because the circuit is open.
   */
  async del(keys: string[], options: { bypassBreaker?: boolean } = {}): Promise<boolean> {
    if (keys.length === 0) return true;
    const run = () =>
      Promise.all(
        keys.map((key) =>
          this.scripts.cacheEntryDelete(key, this.keys.version(key), ticket(), VERSION_TTL_MS),
        ),
      );
    return (await this.call('del', run, options.bypassBreaker)) !== undefined;
  }

  /** Deletes every key carrying the tag and the tag set itself; the keys deleted, or undefined. */
  async invalidateTag(tagSet: string): Promise<string[] | undefined> {
    const members = await this.call('smembers', () => this.client.smembers(tagSet));
    if (members === undefined) return undefined;
    if (!(await this.del(members))) return undefined;
    return (await this.call('del', () => this.client.del(tagSet))) === undefined ? undefined : members;
  }

  /** Records `key` in each tag set (one transaction per set: a set is one key, so one slot). */
  private async addToTags(tagSets: string[], key: string, ttl: number): Promise<void> {
    await Promise.all(
      tagSets.map((tagSet) =>
        this.client
          .multi()
          .sadd(tagSet, key)
          // The tag set lives as long as its longest-lived member could.
          .pexpire(tagSet, ttl, 'GT')
          .pexpire(tagSet, ttl, 'NX')
          .exec(),
      ),
    );
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
  publish(
    channel: string,
    message: string,
    options: { bypassBreaker?: boolean } = {},
  ): Promise<number | undefined> {
    return this.call('publish', () => this.client.publish(channel, message), options.bypassBreaker);
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
