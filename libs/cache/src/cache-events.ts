import { EventEmitter } from 'node:events';
import type { CircuitState } from './circuit-breaker';

type CacheTier = 'l1' | 'l2';

export interface CacheEventMap {
  /** `entity`: the name of a registered entity (CacheEntity.name). */
  hit: [{ tier: CacheTier; entity: string }];
  miss: [{ tier: CacheTier; entity: string }];
  /** A Redis call failed or timed out; the caller fell back to the next tier. */
  error: [{ operation: string; error: Error }];
  /** Duration of one Redis call, in seconds. */
  latency: [{ operation: string; seconds: number }];
  invalidation: [{ direction: 'sent' | 'received'; keys: number }];
  circuit: [{ state: CircuitState }];
  /** The loader ran: the value came from the source of truth. */
  load: [{ entity: string }];
}

/** What the cache reports, for metrics and the admin stats; emitting costs nothing when nobody listens. */
export class CacheEvents extends EventEmitter<CacheEventMap> {}

/** Running totals of the events, per process. */
export class CacheCounters {
  readonly hits = { l1: 0, l2: 0 };
  readonly misses = { l1: 0, l2: 0 };
  errors = 0;
  loads = 0;
  invalidationsSent = 0;
  invalidationsReceived = 0;

  constructor(events: CacheEvents) {
    events.on('hit', ({ tier }) => this.hits[tier]++);
    events.on('miss', ({ tier }) => this.misses[tier]++);
    events.on('error', () => this.errors++);
    events.on('load', () => this.loads++);
    events.on('invalidation', ({ direction, keys }) => {
      if (direction === 'sent') this.invalidationsSent += keys;
      else this.invalidationsReceived += keys;
    });
  }
}
