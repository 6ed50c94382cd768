import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { CACHE_OPTIONS, CacheOptions } from './cache.options';

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

/**
 * Every cache key and tag is built here and only here: `{prefix}:{version}:{entity}:{id}`.
 * Emails are hashed, so no raw email reaches Redis; tokens are never part of a key.
 */
@Injectable()
export class CacheKeys {
  readonly root: string;

  constructor(@Inject(CACHE_OPTIONS) options: Pick<CacheOptions, 'keyPrefix' | 'schemaVersion'>) {
    this.root = `${options.keyPrefix}:${options.schemaVersion}`;
  }

  user(id: string): string {
    return `${this.root}:user:id:${id}`;
  }

  userByEmail(normalizedEmail: string): string {
    return `${this.root}:user:email:${sha256(normalizedEmail)}`;
  }

  session(sessionId: string): string {
    return `${this.root}:session:${sessionId}`;
  }

  oauthAccount(provider: string, providerAccountId: string): string {
    return `${this.root}:oauth:${provider}:${sha256(providerAccountId)}`;
  }

  profile(userId: string): string {
    return `${this.root}:profile:${userId}`;
  }

  /** A cached HTTP response: route template, caller (or `public`), and a hash of the query. */
  httpResponse(route: string, caller: string, query: string): string {
    return `${this.root}:http:${route}:${caller}:${sha256(query).slice(0, 16)}`;
  }

  /** The Redis set listing the keys that carry `tag`. */
  tagSet(tag: string): string {
    return `${this.root}:tag:${tag}`;
  }

  userTag(userId: string): string {
    return `user:${userId}`;
  }

  /** A Redis hash buffering small writes before they are flushed in batches (write-behind). */
  writeBehind(name: string): string {
    return `${this.root}:wb:${name}`;
  }

  /** The pub/sub channel on which instances tell each other which L1 entries to drop. */
  invalidationChannel(): string {
    return `${this.root}:invalidate`;
  }
}
