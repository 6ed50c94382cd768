import { Logger } from '@nestjs/common';
import type { L2Store } from './l2-store';

const MAX_MISSED = 100_000;

/**
 * Keys whose write or delete could not reach Redis: Redis may still hold the old entry for other
 * instances, so each is deleted (and its invalidation published) as soon as Redis answers again.
 * Bounded: past MAX_MISSED, entries may stay stale until their TTL, and the log says so.
 */
export class MissedInvalidations {
  private readonly logger = new Logger('Cache');
  private readonly keys = new Set<string>();
  private running?: Promise<void>;

  get size(): number {
    return this.keys.size;
  }

  remember(keys: string[]): void {
    for (const key of keys) {
      if (this.keys.size >= MAX_MISSED) {
        this.logger.error(
          `More than ${MAX_MISSED} invalidations missed; entries may stay stale until their TTL`,
        );
        return;
      }
      this.keys.add(key);
    }
  }

  /**
   * Deletes the keys in Redis, then `publish`es them; kept for the next try when Redis fails again.
   * One replay at a time: a trigger that comes while one runs joins it.
   */
  replay(
    l2: L2Store,
    publish: (keys: string[]) => Promise<void>,
    options: { bypassBreaker?: boolean } = {},
  ): Promise<void> {
    if (this.keys.size === 0) return Promise.resolve();
    this.running ??= this.replayOnce(l2, publish, options).finally(() => (this.running = undefined));
    return this.running;
  }

  private async replayOnce(
    l2: L2Store,
    publish: (keys: string[]) => Promise<void>,
    options: { bypassBreaker?: boolean },
  ): Promise<void> {
    const keys = [...this.keys];
    if (await l2.del(keys, options)) {
      keys.forEach((k) => this.keys.delete(k));
      await publish(keys);
      this.logger.log(`Replayed ${keys.length} invalidation(s) missed while Redis was unavailable`);
    }
  }
}
