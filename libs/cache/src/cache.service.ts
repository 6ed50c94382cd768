import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { RedisClient, RedisService } from '@app/redis';
import { CacheCounters, CacheEvents } from './cache-events';
import { CacheKeys } from './cache-keys';
import { CACHE_OPTIONS, CacheEntity, CacheOptions, Consistency } from './cache.options';
import { CircuitBreaker } from './circuit-breaker';
import { InvalidationBus } from './invalidation-bus';
import { L1Store } from './l1-store';
import { L2Store } from './l2-store';
import { ABSENT, serialize } from './serialization';
import { sharedValue } from './shared-values';
import { SingleFlight } from './single-flight';
import { ValueCipher } from './value-cipher';

/** Which entities may never be served stale by another instance (see `Consistency`). */
export const CONSISTENCY: Record<CacheEntity, Consistency> = {
  session: 'strict',
  user: 'strict',
  profile: 'strict',
  userEmail: 'eventual',
  oauth: 'eventual',
  http: 'eventual',
};

const MAX_PENDING_INVALIDATIONS = 100_000;

/** Which entry: enough to read one without loading it. */
export interface EntrySpec {
  entity: CacheEntity;
  key: string;
}

export interface LoadSpec<T> extends EntrySpec {
  /** Reads the source of truth; null means "no such row" and is cached briefly as such. */
  load: () => Promise<T | null>;
  tags?: string[];
  ttlSeconds?: number;
}

export interface WriteOptions {
  tags?: string[];
  ttlSeconds?: number;
}

/**
 * Read-through / write-through cache: L1 (in-process LRU) → L2 (Redis) → the loader.
 * Redis trouble is a miss, never an error; misses of one key share one load (single-flight);
 * writes go to Redis first and then tell every instance to drop its L1 copy.
 */
@Injectable()
export class CacheService implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Cache');
  readonly events = new CacheEvents();
  readonly counters = new CacheCounters(this.events);
  readonly breaker: CircuitBreaker;
  private readonly l1: L1Store;
  private readonly l2?: L2Store;
  private readonly bus?: InvalidationBus;
  private readonly subscriber?: RedisClient;
  private readonly flights = new SingleFlight();
  private readonly cipher?: ValueCipher;
  private readonly encrypted: ReadonlySet<CacheEntity>;
  /** Fills in progress; a write to the same key marks its fill stale so it is not kept in L1. */
  private readonly fills = new Map<string, { stale: boolean }>();
  /** Keys whose invalidation could not reach Redis: replayed as soon as Redis answers again. */
  private readonly pendingInvalidations = new Set<string>();
  /** In single-process mode tags are tracked here (Redis sets otherwise). */
  private readonly localTags = new Map<string, Set<string>>();

  constructor(
    @Inject(CACHE_OPTIONS) readonly options: CacheOptions,
    readonly keys: CacheKeys,
    @Optional() redis?: RedisService,
  ) {
    this.l1 = new L1Store(options.l1MaxEntries);
    this.cipher = options.encryption ? new ValueCipher(options.encryption.key) : undefined;
    this.encrypted = new Set(options.encryption?.entities ?? []);
    this.breaker = new CircuitBreaker(
      options.breaker.failureThreshold,
      options.breaker.cooldownMs,
      Date.now,
      (state, from) => {
        this.events.emit('circuit', { state });
        // While Redis stays down the circuit flips open → half-open → open every cooldown: the log
        // says when the outage starts and ends, the `circuit` events say every change.
        if (state === 'open' && from === 'closed') {
          this.logger.warn('Redis failing: circuit open, serving from PostgreSQL');
        }
        if (state === 'closed') {
          this.logger.log('Redis answers again: circuit closed');
          // Invalidations may have been lost both ways while Redis was unreachable.
          this.l1.clear();
          void this.replayPendingInvalidations();
        }
      },
    );
    const client = options.enabled ? redis?.client : undefined;
    const subscriber = client ? redis?.duplicate() : undefined;
    if (client && subscriber) {
      this.l2 = new L2Store(client, this.breaker, options.redisTimeoutMs, this.events);
      this.subscriber = subscriber;
      this.bus = new InvalidationBus(
        subscriber,
        this.l2,
        keys.invalidationChannel(),
        this.l1,
        this.events,
        options.strictL1,
      );
      client.on('ready', () => void this.replayPendingInvalidations());
    }
  }

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** Invalidations that could not reach Redis yet (replayed when it answers again). */
  get missedInvalidations(): number {
    return this.pendingInvalidations.size;
  }

  /** Whether L1 may serve strict entries now (strictL1 configured and its heartbeat fresh). */
  get strictL1Trusted(): boolean {
    return this.bus?.strictTrusted ?? false;
  }

  async getOrLoad<T>(spec: LoadSpec<T>): Promise<T | null> {
    if (!this.options.enabled) return spec.load();
    const epoch = this.epoch;
    const text = this.fromL1(spec);
    if (text !== undefined) return decode<T>(text);
    if (!this.l2) return this.fill(spec);
    return this.answerFromL2(spec, await this.l2.get(spec.key), epoch);
  }

  /** Several entries: those L1 may not serve come from Redis in one round trip (MGET); misses load as by getOrLoad. */
  async getOrLoadMany<A, B>(specs: [LoadSpec<A>, LoadSpec<B>]): Promise<[A | null, B | null]>;
  async getOrLoadMany(specs: LoadSpec<unknown>[]): Promise<unknown[]> {
    if (!this.options.enabled || !this.l2) return Promise.all(specs.map((s) => this.getOrLoad(s)));
    const epoch = this.epoch;
    const results: unknown[] = new Array(specs.length);
    const fromRedis: number[] = [];
    for (let i = 0; i < specs.length; i++) {
      const text = this.fromL1(specs[i]);
      if (text !== undefined) results[i] = decode(text);
      else fromRedis.push(i);
    }
    if (fromRedis.length === 0) return results;
    const texts = await this.l2.mget(fromRedis.map((i) => specs[i].key));
    await Promise.all(
      fromRedis.map(async (i, j) => (results[i] = await this.answerFromL2(specs[i], texts?.[j], epoch))),
    );
    return results;
  }

  /**
   * The values of entries that L1 may serve now and holds, read without waiting; undefined when any
   * of them is not there (missing, a negative entry, or L1 not trusted for its entity). For callers
   * that answer at once when everything is in memory and otherwise take getOrLoad, which decides
   * every other case.
   */
  peekMany<A, B>(specs: [EntrySpec, EntrySpec]): [A, B] | undefined;
  peekMany(specs: EntrySpec[]): unknown[] | undefined {
    if (!this.options.enabled) return undefined;
    const texts: string[] = new Array(specs.length);
    for (let i = 0; i < specs.length; i++) {
      if (!this.l1Usable(specs[i].entity)) return undefined;
      const text = this.l1.get(specs[i].key);
      if (text === undefined || text === ABSENT) return undefined;
      texts[i] = text;
    }
    return texts.map((text, i) => {
      this.events.emit('hit', { tier: 'l1', entity: specs[i].entity });
      return sharedValue(text);
    });
  }

  /** Write-through: the fresh value replaces the entry, then every instance drops its L1 copy. */
  async set<T>(entity: CacheEntity, key: string, value: T | null, options: WriteOptions = {}): Promise<void> {
    if (!this.options.enabled) return;
    this.bus?.bump();
    this.markFillsStale([key]);
    const text = encode(value);
    const ttlMs = this.ttlMs(entity, value === null, options.ttlSeconds);
    if (this.l2) {
      const tags = options.tags?.map((t) => this.keys.tagSet(t));
      if (!(await this.l2.set(key, this.toL2(entity, text), ttlMs, { tags }))) this.rememberMissed([key]);
    }
    if (this.l1Usable(entity)) this.l1.set(key, text, Math.min(ttlMs, this.options.l1TtlSeconds * 1000));
    else this.l1.delete([key]);
    this.trackLocalTags(key, options.tags);
    await this.bus?.publish([key]);
  }

  /** Removes entries everywhere (Redis, this L1, every other instance's L1). */
  async delete(keys: string[]): Promise<void> {
    if (!this.options.enabled || keys.length === 0) return;
    this.bus?.bump();
    this.markFillsStale(keys);
    this.l1.delete(keys);
    if (this.l2 && !(await this.l2.del(keys))) this.rememberMissed(keys);
    await this.bus?.publish(keys);
  }

  /** Removes every entry written with `tag`; answers how many there were. */
  async invalidateTag(tag: string): Promise<number> {
    if (!this.options.enabled) return 0;
    const tagSet = this.keys.tagSet(tag);
    if (this.l2) {
      const keys = await this.l2.invalidateTag(tagSet);
      if (keys === undefined) {
        // Without Redis we cannot know the members: drop the whole L1 of every instance we can reach.
        this.l1.clear();
        return 0;
      }
      this.bus?.bump();
      this.markFillsStale(keys);
      this.l1.delete(keys);
      await this.bus?.publish(keys);
      return keys.length;
    }
    const keys = this.localTags.get(tagSet) ?? new Set<string>();
    this.localTags.delete(tagSet);
    this.l1.delete(keys);
    return keys.size;
  }

  /** Whether Redis (L2) is configured for this cache (enabled and a Redis URL given). */
  get redisConfigured(): boolean {
    return this.l2 !== undefined;
  }

  /** Entries currently held in this process's L1. */
  get l1Size(): number {
    return this.l1.size;
  }

  /**
   * Where an entry is cached and what it holds, without counting a lookup or filling anything:
   * `l1`/`l2` say whether the tier holds the key (`l2` undefined when Redis did not answer or is
   * not configured), `value` is the decoded entry (null: a cached "absent", undefined: not cached).
   */
  async peek<T>(
    entity: CacheEntity,
    key: string,
  ): Promise<{ l1: boolean; l2: boolean | undefined; value: T | null | undefined }> {
    const l1Text = this.l1.get(key);
    const raw = this.l2 ? await this.l2.get(key) : undefined;
    const l2Text = this.fromL2(entity, raw);
    const text = typeof l2Text === 'string' ? l2Text : l1Text;
    return {
      l1: l1Text !== undefined,
      l2: this.l2 && raw !== undefined ? raw !== null : undefined,
      value: text === undefined ? undefined : decode<T>(text),
    };
  }

  /** Running totals of this process plus the circuit state, for stats endpoints. */
  stats(): {
    enabled: boolean;
    redis: boolean;
    l1Entries: number;
    hits: { l1: number; l2: number };
    misses: { l1: number; l2: number };
    loads: number;
    errors: number;
    invalidations: { sent: number; received: number };
    circuit: string;
  } {
    const c = this.counters;
    return {
      enabled: this.options.enabled,
      redis: this.l2 !== undefined,
      l1Entries: this.l1.size,
      hits: { ...c.hits },
      misses: { ...c.misses },
      loads: c.loads,
      errors: c.errors,
      invalidations: { sent: c.invalidationsSent, received: c.invalidationsReceived },
      circuit: this.breaker.state,
    };
  }

  /** Redis round-trip time (PING) in ms; undefined without Redis or when it failed. */
  async ping(): Promise<number | undefined> {
    return this.options.enabled && this.l2 ? this.l2.ping() : undefined;
  }

  /** Redis memory and key count (INFO memory, DBSIZE); undefined without Redis or when it failed. */
  async redisInfo(): Promise<{ usedMemoryBytes: number; maxMemoryBytes: number; keys: number } | undefined> {
    return this.options.enabled && this.l2 ? this.l2.info() : undefined;
  }

  /**
   * Adds `member` to the Redis set `key` without waiting (write-behind buffers).
   * False when Redis is not usable right now: the caller keeps the value itself.
   */
  addQuietly(key: string, member: string): boolean {
    return this.options.enabled && this.l2 ? this.l2.saddQuietly(key, member) : false;
  }

  /** Takes every member of the set `key` and deletes it atomically; undefined without Redis or on failure. */
  async drain(key: string): Promise<string[] | undefined> {
    return this.options.enabled && this.l2 ? this.l2.drainSet(key) : undefined;
  }

  /**
   * A write whose Redis update failed is kept for replay; a process that stops before Redis came
   * back would lose it and leave a stale entry for other instances, so try once more on the way out.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.replayPendingInvalidations({ bypassBreaker: true });
  }

  async onApplicationShutdown(): Promise<void> {
    this.bus?.close();
    this.subscriber?.disconnect();
  }

  /** The L1 text of an entry, when L1 may serve this entity and holds it; counts the lookup. */
  private fromL1(spec: LoadSpec<unknown>): string | undefined {
    if (!this.l1Usable(spec.entity)) return undefined;
    const text = this.l1.get(spec.key);
    this.events.emit(text === undefined ? 'miss' : 'hit', { tier: 'l1', entity: spec.entity });
    return text;
  }

  /** What Redis answered for an entry (undefined: it failed): a hit, or a miss that loads. */
  private answerFromL2<T>(
    spec: LoadSpec<T>,
    value: string | null | undefined,
    epoch: number,
  ): Promise<T | null> | T | null {
    const text = this.fromL2(spec.entity, value);
    if (typeof text === 'string') return this.l2Hit(spec, text, epoch);
    if (text === null) this.events.emit('miss', { tier: 'l2', entity: spec.entity });
    return this.fill(spec);
  }

  /** Changes whenever an invalidation is seen or made: a read that spans one must not fill L1. */
  private get epoch(): number {
    return this.bus?.epoch ?? 0;
  }

  /** `epoch`: taken before the Redis read, so a value read before an invalidation stays out of L1. */
  private l2Hit<T>(spec: LoadSpec<T>, text: string, epoch: number): T | null {
    this.events.emit('hit', { tier: 'l2', entity: spec.entity });
    if (this.epoch === epoch && this.l1Usable(spec.entity)) {
      this.l1.set(
        spec.key,
        text,
        Math.min(this.ttlMs(spec.entity, text === ABSENT, spec.ttlSeconds), this.options.l1TtlSeconds * 1000),
      );
    }
    return decode<T>(text);
  }

  private fill<T>(spec: LoadSpec<T>): Promise<T | null> {
    return this.flights.run(spec.key, async () => {
      const epoch = this.epoch;
      // A miss read just before another fill finished would load again: look once more first.
      if (this.l2) {
        const text = this.fromL2(spec.entity, await this.l2.get(spec.key));
        if (typeof text === 'string') return this.l2Hit(spec, text, epoch);
      }
      const fill = { stale: false };
      this.fills.set(spec.key, fill);
      try {
        const value = await spec.load();
        this.events.emit('load', { entity: spec.entity });
        const text = encode(value);
        const ttlMs = this.ttlMs(spec.entity, value === null, spec.ttlSeconds);
        if (this.l2 && !fill.stale) {
          // NX: a write that happened while we were loading must win over this older read.
          await this.l2.set(spec.key, this.toL2(spec.entity, text), ttlMs, {
            onlyIfAbsent: true,
            tags: spec.tags?.map((t) => this.keys.tagSet(t)),
          });
        }
        if (!fill.stale && this.epoch === epoch && this.l1Usable(spec.entity)) {
          this.l1.set(spec.key, text, Math.min(ttlMs, this.options.l1TtlSeconds * 1000));
          this.trackLocalTags(spec.key, spec.tags);
        }
        return value;
      } finally {
        this.fills.delete(spec.key);
      }
    });
  }

  /** Without Redis, tag membership is kept here (bounded by L1's own size, roughly). */
  private trackLocalTags(key: string, tags: string[] | undefined): void {
    if (this.l2 || !tags) return;
    for (const tag of tags) {
      const tagSet = this.keys.tagSet(tag);
      this.localTags.set(tagSet, (this.localTags.get(tagSet) ?? new Set()).add(key));
    }
  }

  private toL2(entity: CacheEntity, text: string): string {
    return this.cipher && this.encrypted.has(entity) && text !== ABSENT ? this.cipher.seal(text) : text;
  }

  /** Plain text from a Redis value; a value this key cannot open counts as a miss (null). */
  private fromL2(entity: CacheEntity, value: string | null | undefined): string | null | undefined {
    if (typeof value !== 'string' || !this.cipher || !this.encrypted.has(entity) || value === ABSENT)
      return value;
    return this.cipher.open(value) ?? null;
  }

  private markFillsStale(keys: Iterable<string>): void {
    for (const key of keys) {
      const fill = this.fills.get(key);
      if (fill) fill.stale = true;
    }
  }

  /**
   * L1 may serve an entity in single-process mode; with Redis, only while the circuit is closed,
   * and then eventual entities while the invalidation channel is healthy, strict ones only with
   * `strictL1` while the bus trusts L1 (acknowledged invalidations: see InvalidationBus).
   */
  private l1Usable(entity: CacheEntity): boolean {
    if (!this.l2) return true;
    if (this.breaker.state !== 'closed' || !this.bus) return false;
    return CONSISTENCY[entity] === 'eventual' ? this.bus.healthy : this.bus.strictTrusted;
  }

  private ttlMs(entity: CacheEntity, absent: boolean, override?: number): number {
    const base = absent
      ? Math.min(this.options.negativeTtlSeconds, this.options.ttlSeconds[entity])
      : (override ?? this.options.ttlSeconds[entity]);
    const jitter = 1 + (Math.random() * 2 - 1) * this.options.ttlJitter;
    return base * 1000 * jitter;
  }

  private rememberMissed(keys: string[]): void {
    for (const key of keys) {
      if (this.pendingInvalidations.size >= MAX_PENDING_INVALIDATIONS) {
        this.logger.error(
          `More than ${MAX_PENDING_INVALIDATIONS} invalidations missed; entries may stay stale until their TTL`,
        );
        return;
      }
      this.pendingInvalidations.add(key);
    }
  }

  private async replayPendingInvalidations(options: { bypassBreaker?: boolean } = {}): Promise<void> {
    if (!this.l2 || this.pendingInvalidations.size === 0) return;
    const keys = [...this.pendingInvalidations];
    if (await this.l2.del(keys, options)) {
      keys.forEach((k) => this.pendingInvalidations.delete(k));
      await this.bus?.publish(keys);
      this.logger.log(`Replayed ${keys.length} invalidation(s) missed while Redis was unavailable`);
    }
  }
}

function encode(value: unknown): string {
  return value === null || value === undefined ? ABSENT : serialize(value);
}

/** Cached values are shared and deeply frozen (see shared-values.ts): copy one to change it. */
function decode<T>(text: string): T | null {
  return text === ABSENT ? null : sharedValue<T>(text);
}
