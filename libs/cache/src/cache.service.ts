import {
  BeforeApplicationShutdown,
  Injectable,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { RedisClient, RedisService } from '@app/redis';
import type { CacheEntity } from './cache-entity';
import type { RegisteredEntity } from './cache-entity.registry';
import type { CacheCounters, CacheEvents } from './cache-events';
import { CacheTiers } from './cache-tiers';
import type { CacheOptions } from './cache.options';
import type { CircuitBreaker } from './circuit-breaker';
import { decodeEntry, encodeEntry } from './entry-text';
import { CacheInternalKeys } from './internal-keys';
import { InvalidationBus } from './invalidation-bus';
import { MissedInvalidations } from './missed-invalidations';
import { ABSENT } from './serialization';
import { SingleFlight } from './single-flight';

/** Which entry: enough to read one without loading it. */
/** How often invalidations that missed Redis are tried again while the circuit is closed. */
const REPLAY_RETRY_MS = 1_000;

export interface EntrySpec<T = unknown> {
  entity: CacheEntity<T>;
  key: string;
}

export interface LoadSpec<T> extends EntrySpec<T> {
  /** Reads the source of truth; null means "no such row" and is cached briefly as such. */
  load: () => Promise<T | null>;
  tags?: string[];
  ttlSeconds?: number;
}

/**
 * What warming did with one entry: stored it, found it there already (or a newer write got there
 * first), or could not tell because Redis failed.
 */
export type WarmOutcome = 'stored' | 'present' | 'failed';

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
export class CacheService implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly options: CacheOptions;
  private readonly bus?: InvalidationBus;
  private readonly subscriber?: RedisClient;
  private readonly flights = new SingleFlight();
  /** Fills in progress; a write to the same key marks its fill stale so it is not kept in L1. */
  private readonly fills = new Map<string, { stale: boolean }>();
  private readonly missed = new MissedInvalidations();
  private readonly replayTimer?: NodeJS.Timeout;
  /** In single-process mode tags are tracked here (Redis sets otherwise). */
  private readonly localTags = new Map<string, Set<string>>();

  constructor(
    private readonly tiers: CacheTiers,
    private readonly keys: CacheInternalKeys,
    @Optional() redis?: RedisService,
  ) {
    this.options = tiers.options;
    this.tiers.events.on('circuit', ({ state }) => {
      if (state === 'closed') void this.replayPendingInvalidations();
    });
    const subscriber = tiers.l2 ? redis?.duplicate() : undefined;
    if (tiers.l2 && subscriber) {
      this.subscriber = subscriber;
      this.bus = new InvalidationBus(
        subscriber,
        tiers.l2,
        keys,
        tiers.l1,
        tiers.events,
        this.options.strictL1,
      );
      redis?.client?.on('ready', () => void this.replayPendingInvalidations());
    }
    if (tiers.l2) {
      // A failure that does not open the circuit (one timeout) brings no 'closed' event: retry.
      this.replayTimer = setInterval(() => {
        if (this.missed.size > 0 && this.tiers.breaker.state === 'closed')
          void this.replayPendingInvalidations();
      }, REPLAY_RETRY_MS);
      this.replayTimer.unref();
    }
  }

  /**
   * Every registration was made while the app was created: refuse to start when the options name
   * an entity nobody registered, or an entity is registered encrypted without a key.
   */
  onModuleInit(): void {
    const responses = this.options.responses;
    this.tiers.verifyEntities(responses ? [responses.entity] : []);
  }

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** What the cache reports, for metrics and health. */
  get events(): CacheEvents {
    return this.tiers.events;
  }

  get counters(): CacheCounters {
    return this.tiers.counters;
  }

  get breaker(): CircuitBreaker {
    return this.tiers.breaker;
  }

  /** Invalidations that could not reach Redis yet (replayed when it answers again). */
  get missedInvalidations(): number {
    return this.missed.size;
  }

  /** Whether L1 may serve strict entries now (strictL1 configured and its heartbeat fresh). */
  get strictL1Trusted(): boolean {
    return this.bus?.strictTrusted ?? false;
  }

  async getOrLoad<T>(spec: LoadSpec<T>): Promise<T | null> {
    if (!this.options.enabled) return spec.load();
    const entity = this.tiers.entity(spec.entity);
    const epoch = this.epoch;
    const text = this.fromL1(entity, spec.key);
    if (text !== undefined) return decodeEntry<T>(text);
    if (!this.tiers.l2) return this.fill(entity, spec);
    return this.answerFromL2(entity, spec, await this.tiers.l2.get(spec.key), epoch);
  }

  /**
   * Warming: a value just read from the source of truth goes into the shared cache with fill
   * semantics (never over an entry, nor over a write made since the ticket was read). Two round
   * trips, and L1 is left alone: it fills with what this instance serves. Without Redis, L1 is
   * the cache, and the value goes there.
   */
  async warm<T>(spec: EntrySpec<T> & WriteOptions, value: T | null): Promise<WarmOutcome> {
    if (!this.options.enabled) return 'failed';
    const entity = this.tiers.entity(spec.entity);
    const text = encodeEntry(value);
    const ttlMs = this.ttlMs(entity, value === null, spec.ttlSeconds);
    const l2 = this.tiers.l2;
    if (!l2) {
      if (this.tiers.l1.get(spec.key) !== undefined) return 'present';
      this.tiers.l1.set(spec.key, text, Math.min(ttlMs, this.options.l1TtlSeconds * 1000));
      this.trackLocalTags(spec.key, spec.tags);
      return 'stored';
    }
    const read = await l2.getWithTicket(spec.key);
    if (read === undefined) return 'failed';
    if (read.value !== null) return 'present';
    const tags = spec.tags?.map((t) => this.keys.tagSet(t));
    const stored = await l2.fill(spec.key, this.tiers.toL2(entity, spec.key, text), ttlMs, read.ticket, tags);
    if (stored === undefined) return 'failed';
    return stored ? 'stored' : 'present';
  }

  /** Several entries: those L1 may not serve come from Redis in one round trip (MGET); misses load as by getOrLoad. */
  async getOrLoadMany<A, B>(specs: [LoadSpec<A>, LoadSpec<B>]): Promise<[A | null, B | null]>;
  async getOrLoadMany(specs: LoadSpec<unknown>[]): Promise<unknown[]> {
    const l2 = this.tiers.l2;
    if (!this.options.enabled || !l2) return Promise.all(specs.map((s) => this.getOrLoad(s)));
    const epoch = this.epoch;
    const results: unknown[] = new Array(specs.length);
    const fromRedis: { index: number; spec: LoadSpec<unknown>; entity: RegisteredEntity }[] = [];
    specs.forEach((spec, index) => {
      const entity = this.tiers.entity(spec.entity);
      const text = this.fromL1(entity, spec.key);
      if (text !== undefined) results[index] = decodeEntry(text);
      else fromRedis.push({ index, spec, entity });
    });
    if (fromRedis.length === 0) return results;
    const texts = await l2.mget(fromRedis.map(({ spec }) => spec.key));
    await Promise.all(
      fromRedis.map(
        async ({ index, spec, entity }, j) =>
          (results[index] = await this.answerFromL2(entity, spec, texts?.[j], epoch)),
      ),
    );
    return results;
  }

  /**
   * The values of entries that L1 may serve now and holds, read without waiting; undefined when any
   * of them is not there (missing, a negative entry, or L1 not trusted for its entity). For callers
   * that answer at once when everything is in memory and otherwise take getOrLoad, which decides
   * every other case.
   */
  peekMany<A, B>(specs: [EntrySpec<A>, EntrySpec<B>]): [A, B] | undefined;
  peekMany(specs: EntrySpec[]): unknown[] | undefined {
    if (!this.options.enabled) return undefined;
    const found: { text: string; entity: string }[] = [];
    for (const spec of specs) {
      const entity = this.tiers.entity(spec.entity);
      if (!this.l1Usable(entity)) return undefined;
      const text = this.tiers.l1.get(spec.key);
      if (text === undefined || text === ABSENT) return undefined;
      found.push({ text, entity: entity.name });
    }
    return found.map(({ text, entity }) => {
      this.tiers.events.emit('hit', { tier: 'l1', entity });
      return decodeEntry(text);
    });
  }

  /**
   * Write-through: the fresh value replaces the entry, then every instance drops its L1 copy.
   * Answers false when Redis could not be written (the key is kept for replay), else true.
   */
  async set<T>(
    entityHandle: CacheEntity<T>,
    key: string,
    value: T | null,
    options: WriteOptions = {},
  ): Promise<boolean> {
    if (!this.options.enabled) return true;
    const entity = this.tiers.entity(entityHandle);
    this.bus?.bump();
    this.markFillsStale([key]);
    const text = encodeEntry(value);
    const ttlMs = this.ttlMs(entity, value === null, options.ttlSeconds);
    const l2 = this.tiers.l2;
    let written = true;
    if (l2) {
      const tags = options.tags?.map((t) => this.keys.tagSet(t));
      written = await l2.set(key, this.tiers.toL2(entity, key, text), ttlMs, tags);
      if (!written) this.missed.remember([key]);
    }
    if (this.l1Usable(entity))
      this.tiers.l1.set(key, text, Math.min(ttlMs, this.options.l1TtlSeconds * 1000));
    else this.tiers.l1.delete([key]);
    this.trackLocalTags(key, options.tags);
    await this.bus?.publish([key]);
    return written;
  }

  /**
   * Drops this instance's L1 copies only (no Redis call, no message): for a process that learnt of
   * a change some other way than the invalidation channel (e.g. a log in the database).
   */
  forgetLocally(keys: string[]): void {
    if (keys.length === 0) return;
    this.bus?.bump();
    this.markFillsStale(keys);
    this.tiers.l1.delete(keys);
  }

  /**
   * Makes sure Redis does not hold an outdated entry: reads it and, when it holds a value that
   * `isCurrent` rejects, writes `value` in its place (write-through, as `set`). True when Redis now
   * holds nothing or a current value (or there is no Redis); false when Redis could not be read or
   * written, so the caller can try again later.
   */
  async correct<T>(
    entityHandle: CacheEntity<T>,
    key: string,
    value: T,
    isCurrent: (cached: T | null) => boolean,
  ): Promise<boolean> {
    const l2 = this.tiers.l2;
    if (!this.options.enabled || !l2) return true;
    // Not now: a call would only add to the errors counted and keep the circuit from closing.
    if (!l2.ready || this.tiers.breaker.state !== 'closed') return false;
    const text = this.tiers.fromL2(this.tiers.entity(entityHandle), key, await l2.get(key));
    if (text === undefined) return false;
    if (text === null || isCurrent(decodeEntry<T>(text))) return true;
    return this.set(entityHandle, key, value);
  }

  /** Removes entries everywhere (Redis, this L1, every other instance's L1). */
  async delete(keys: string[]): Promise<void> {
    if (!this.options.enabled || keys.length === 0) return;
    this.bus?.bump();
    this.markFillsStale(keys);
    this.tiers.l1.delete(keys);
    if (this.tiers.l2 && !(await this.tiers.l2.del(keys))) this.missed.remember(keys);
    await this.bus?.publish(keys);
  }

  /** Removes every entry written with `tag`; answers how many there were. */
  async invalidateTag(tag: string): Promise<number> {
    if (!this.options.enabled) return 0;
    const tagSet = this.keys.tagSet(tag);
    const l1 = this.tiers.l1;
    if (this.tiers.l2) {
      const keys = await this.tiers.l2.invalidateTag(tagSet);
      if (keys === undefined) {
        // Without Redis we cannot know the members: drop the whole L1 of every instance we can reach.
        l1.clear();
        return 0;
      }
      this.bus?.bump();
      this.markFillsStale(keys);
      l1.delete(keys);
      await this.bus?.publish(keys);
      return keys.length;
    }
    const keys = this.localTags.get(tagSet) ?? new Set<string>();
    this.localTags.delete(tagSet);
    l1.delete(keys);
    return keys.size;
  }

  /**
   * A write whose Redis update failed is kept for replay; a process that stops before Redis came
   * back would lose it and leave a stale entry for other instances, so try once more on the way out.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.replayPendingInvalidations({ bypassBreaker: true });
  }

  onApplicationShutdown(): void {
    clearInterval(this.replayTimer);
    this.bus?.close();
    this.subscriber?.disconnect();
  }

  /** The L1 text of an entry, when L1 may serve this entity and holds it; counts the lookup. */
  private fromL1(entity: RegisteredEntity, key: string): string | undefined {
    if (!this.l1Usable(entity)) return undefined;
    const text = this.tiers.l1.get(key);
    this.tiers.events.emit(text === undefined ? 'miss' : 'hit', { tier: 'l1', entity: entity.name });
    return text;
  }

  /** What Redis answered for an entry (undefined: it failed): a hit, or a miss that loads. */
  private answerFromL2<T>(
    entity: RegisteredEntity,
    spec: LoadSpec<T>,
    value: string | null | undefined,
    epoch: number,
  ): Promise<T | null> | T | null {
    const text = this.tiers.fromL2(entity, spec.key, value);
    if (typeof text === 'string') return this.l2Hit(entity, spec, text, epoch);
    if (text === null) this.tiers.events.emit('miss', { tier: 'l2', entity: entity.name });
    return this.fill(entity, spec);
  }

  /** Changes whenever an invalidation is seen or made: a read that spans one must not fill L1. */
  private get epoch(): number {
    return this.bus?.epoch ?? 0;
  }

  /** `epoch`: taken before the Redis read, so a value read before an invalidation stays out of L1. */
  private l2Hit<T>(entity: RegisteredEntity, spec: LoadSpec<T>, text: string, epoch: number): T | null {
    this.tiers.events.emit('hit', { tier: 'l2', entity: entity.name });
    if (this.epoch === epoch && this.l1Usable(entity)) {
      this.tiers.l1.set(
        spec.key,
        text,
        Math.min(this.ttlMs(entity, text === ABSENT, spec.ttlSeconds), this.options.l1TtlSeconds * 1000),
      );
    }
    return decodeEntry<T>(text);
  }

  private fill<T>(entity: RegisteredEntity, spec: LoadSpec<T>): Promise<T | null> {
    return this.flights.run(spec.key, async () => {
      const epoch = this.epoch;
      const l2 = this.tiers.l2;
      // A miss read just before another fill finished would load again: look once more first,
      // and take the entry's version ticket, which the store below checks (entry-scripts.ts).
      let readTicket: string | null = null;
      let ticketKnown = !l2;
      if (l2) {
        const read = await l2.getWithTicket(spec.key);
        const text = this.tiers.fromL2(entity, spec.key, read?.value);
        if (typeof text === 'string') return this.l2Hit(entity, spec, text, epoch);
        ticketKnown = read !== undefined;
        readTicket = read?.ticket ?? null;
      }
      const fill = { stale: false };
      this.fills.set(spec.key, fill);
      try {
        const value = await spec.load();
        this.tiers.events.emit('load', { entity: entity.name });
        const text = encodeEntry(value);
        const ttlMs = this.ttlMs(entity, value === null, spec.ttlSeconds);
        // Without the ticket (Redis failed just now) nothing is stored: it could not be checked.
        if (l2 && ticketKnown && !fill.stale) {
          const tags = spec.tags?.map((t) => this.keys.tagSet(t));
          await l2.fill(spec.key, this.tiers.toL2(entity, spec.key, text), ttlMs, readTicket, tags);
        }
        if (!fill.stale && this.epoch === epoch && this.l1Usable(entity)) {
          this.tiers.l1.set(spec.key, text, Math.min(ttlMs, this.options.l1TtlSeconds * 1000));
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
    if (this.tiers.l2 || !tags) return;
    for (const tag of tags) {
      const tagSet = this.keys.tagSet(tag);
      this.localTags.set(tagSet, (this.localTags.get(tagSet) ?? new Set()).add(key));
    }
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
  private l1Usable(entity: RegisteredEntity): boolean {
    if (!this.tiers.l2) return true;
    if (this.tiers.breaker.state !== 'closed' || !this.bus) return false;
    return entity.consistency === 'eventual' ? this.bus.healthy : this.bus.strictTrusted;
  }

  private ttlMs(entity: RegisteredEntity, absent: boolean, override?: number): number {
    const base = absent
      ? Math.min(this.options.negativeTtlSeconds, entity.ttlSeconds)
      : (override ?? entity.ttlSeconds);
    const jitter = 1 + (Math.random() * 2 - 1) * this.options.ttlJitter;
    return base * 1000 * jitter;
  }

  private async replayPendingInvalidations(options: { bypassBreaker?: boolean } = {}): Promise<void> {
    const l2 = this.tiers.l2;
    if (l2) await this.missed.replay(l2, async (keys) => this.bus?.publish(keys), options);
  }
}
