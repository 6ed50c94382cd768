import { Injectable } from '@nestjs/common';
import { CacheTiers } from './cache-tiers';
import { CacheInternalKeys } from './internal-keys';

/**
 * A Redis set buffering small writes (e.g. "session seen at") until they are flushed in batches
 * to the database by its owner. Adding never waits; without Redis, or while it fails, the owner
 * keeps the values itself.
 */
export class WriteBehindSet {
  constructor(
    /** The set's Redis key. */
    readonly key: string,
    private readonly tiers: CacheTiers,
  ) {}

  /** SADD without waiting; false when Redis is not usable right now: the caller keeps `member` itself. */
  add(member: string): boolean {
    return this.tiers.l2?.saddQuietly(this.key, member) ?? false;
  }

  /** Takes every member and deletes the set, atomically; undefined without Redis or on failure. */
  drain(): Promise<string[] | undefined> {
    return this.tiers.l2?.drainSet(this.key) ?? Promise.resolve(undefined);
  }
}

/** Hands out the app's write-behind sets by name (their keys are the library's: CacheInternalKeys). */
@Injectable()
export class WriteBehindSets {
  constructor(
    private readonly tiers: CacheTiers,
    private readonly keys: CacheInternalKeys,
  ) {}

  open(name: string): WriteBehindSet {
    return new WriteBehindSet(this.keys.writeBehindSet(name), this.tiers);
  }
}
