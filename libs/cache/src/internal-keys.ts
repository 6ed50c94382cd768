import { Inject, Injectable } from '@nestjs/common';
import { CACHE_OPTIONS, CacheOptions } from './cache.options';

/**
 * The only Redis keys and channels the library itself names, all under
 * `{keyPrefix}:{schemaVersion}`. The keys of cached entries are the app's (its keys file): the
 * library stores whatever key it is given.
 */
@Injectable()
export class CacheInternalKeys {
  private readonly root: string;

  constructor(@Inject(CACHE_OPTIONS) options: Pick<CacheOptions, 'keyPrefix' | 'schemaVersion'>) {
    this.root = `${options.keyPrefix}:${options.schemaVersion}`;
  }

  /**
   * The Redis set listing the keys that carry `tag`. The tag is its hash tag, so in Redis Cluster
   * the set lives in the slot of `{tag}`: an entry whose key carries the same hash tag is written
   * together with its tag-set membership (one MULTI) and invalidated with it (one DEL).
   */
  tagSet(tag: string): string {
    return `${this.root}:tag:{${tag}}`;
  }

  /**
   * The key holding the version ticket of the entry `key` (see entry-scripts.ts), in the entry's
   * hash slot: an entry key with a hash tag lends it (the first `{…}` of the version key is the
   * entry's), an entry key without one becomes the version key's tag (a key without a tag hashes
   * whole, so `{key}` hashes like `key`). So an entry key carries a hash tag or no brace at all.
   */
  version(key: string): string {
    const open = key.indexOf('{');
    const close = open < 0 ? -1 : key.indexOf('}', open + 1);
    const tagged = close > open + 1;
    return tagged ? `${this.root}:ver:${key}` : `${this.root}:ver:{${key}}`;
  }

  /** A Redis set buffering small writes before they are flushed in batches (write-behind). */
  writeBehindSet(name: string): string {
    return `${this.root}:wb:${name}`;
  }

  /** The pub/sub channel on which instances tell each other which L1 entries to drop. */
  invalidationChannel(): string {
    return `${this.root}:invalidate`;
  }

  /** Where the instance `instanceId` receives acknowledgements of its invalidations (strict L1). */
  acknowledgementChannel(instanceId: string): string {
    return `${this.invalidationChannel()}:ack:${instanceId}`;
  }
}
