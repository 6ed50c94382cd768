import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { RedisService } from '@app/redis';
import type { CacheEntity } from './cache-entity';
import { CacheCounters, CacheEvents } from './cache-events';
import { CacheEntityRegistry, RegisteredEntity } from './cache-entity.registry';
import { CACHE_OPTIONS, CacheOptions } from './cache.options';
import { CircuitBreaker } from './circuit-breaker';
import { CacheInternalKeys } from './internal-keys';
import { L1Store } from './l1-store';
import { L2Store } from './l2-store';
import { ABSENT } from './serialization';
import { ValueCipher } from './value-cipher';

/**
 * The two tiers and what guards them, shared by the cache's parts (CacheService, CacheDiagnostics,
 * WriteBehindSets): L1, L2 (Redis, when enabled and configured) behind its circuit breaker, the
 * events they report, and the sealing of encrypted entities' values on their way to Redis.
 */
@Injectable()
export class CacheTiers {
  private readonly logger = new Logger('Cache');
  readonly events = new CacheEvents();
  readonly counters = new CacheCounters(this.events);
  readonly breaker: CircuitBreaker;
  readonly l1: L1Store;
  readonly l2?: L2Store;
  private readonly cipher?: ValueCipher;

  constructor(
    @Inject(CACHE_OPTIONS) readonly options: CacheOptions,
    private readonly entities: CacheEntityRegistry,
    @Optional() redis?: RedisService,
  ) {
    this.l1 = new L1Store(options.l1MaxEntries);
    this.cipher = options.encryptionKey ? new ValueCipher(options.encryptionKey) : undefined;
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
        }
      },
    );
    const client = options.enabled ? redis?.client : undefined;
    if (client) {
      const keys = new CacheInternalKeys(options);
      this.l2 = new L2Store(client, this.breaker, options.redisTimeoutMs, this.events, keys);
    }
  }

  /** How to cache `entity` (refuses an unregistered one). */
  entity(entity: CacheEntity<unknown>): RegisteredEntity {
    return this.entities.settings(entity);
  }

  /** See CacheEntityRegistry.verify. */
  verifyEntities(required: readonly CacheEntity<unknown>[]): void {
    this.entities.verify(required, this.cipher !== undefined);
  }

  /**
   * The text to store in Redis under `key`: sealed for an encrypted entity, bound to that key (a
   * cached "absent" stays plain).
   */
  toL2(entity: RegisteredEntity, key: string, text: string): string {
    return this.cipher && entity.encrypted && text !== ABSENT ? this.cipher.seal(key, text) : text;
  }

  /** Plain text from the Redis value of `key`; a value that does not open there counts as a miss (null). */
  fromL2(entity: RegisteredEntity, key: string, value: string | null | undefined): string | null | undefined {
    if (typeof value !== 'string' || !this.cipher || !entity.encrypted || value === ABSENT) return value;
    return this.cipher.open(key, value) ?? null;
  }
}
