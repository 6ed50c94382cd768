import type { ResponseKeyParts } from '@app/cache';
import { createHmac } from 'node:crypto';

/**
 * Version of the key layout and of the cached shapes: a deploy that changes either bumps it, so it
 * never reads what an older one wrote. v2: one hash tag per user (below).
 */
export const KEY_SCHEMA_VERSION = 'v2';

/** The app's write-behind sets; the cache library keys each as `{prefix}:{version}:wb:{name}`. */
export const WRITE_BEHIND_SETS = { sessionActivity: 'session-activity' } as const;

/** The service secret (PostgreSQL, shared by every instance) that keys the hashes in Redis keys. */
export const KEY_HASH_SECRET = 'cache-key-hmac';

/**
 * Every Redis key of the app, built here and only here (the cache library adds its own few: tag
 * sets, the invalidation channels, write-behind sets). Raw emails, provider account ids and
 * tokens never appear in a key: they are hashed, or not part of it. The hash is an HMAC-SHA-256
 * with a server-side key (`hashKey`), not a plain SHA-256: whoever reads Redis (a dump, MONITOR)
 * cannot confirm a guessed email by hashing it. Every instance must use the same key (the rate
 * limits count across instances), so it is a service secret kept in PostgreSQL (KEY_HASH_SECRET).
 *
 * Cache entries: `{prefix}:v2:…`
 *   {user:<userId>}:user                       the user (PublicUser)
 *   {user:<userId>}:session:<sessionId>        session state
 *   {user:<userId>}:profile                    the profile
 *   {user:<caller>}:http:<route>:<query hash>  a per-caller HTTP response
 *   http:<route>:public:<query hash>           a public HTTP response
 *   email:<hmac(email)>                        email → user id
 *   oauth:<provider>:<hmac(account id)>        provider account → user id
 * Rate-limit counters: `{prefix}:rl:<limit>:<subject>`, the subject being the client IP, the
 * account (HMAC of the email) or both; unversioned on purpose, so a cache layout change never
 * resets a lockout.
 *
 * Redis Cluster: a key is stored in the slot of its hash tag, the text between its first `{` and
 * the next `}`. All of a user's entries carry `{user:<userId>}`, and the user's tag set, which the
 * library keys by the tag (`{prefix}:v2:tag:{user:<userId>}`), hashes on the same text. So these
 * multi-key operations stay in one slot:
 *   - the MGET of session + user that every authenticated request makes (getStateAndUser);
 *   - a tagged write or fill (user, profile, a per-caller response tagged with its caller): the
 *     MULTI of SET + SADD + PEXPIRE on the entry and the user's tag set;
 *   - invalidating the user's tag: SMEMBERS, then one DEL of its members and the set.
 * Not in one slot (each needs splitting per slot before it can run on a cluster): the DEL of an
 * admin eviction (a user's entries plus their email and OAuth entries), the DEL that replays
 * invalidations missed during an outage, and a response tagged with another user than its caller.
 */
export class RedisKeys {
  /** `{prefix}:{version}`: what every cache key starts with. */
  private readonly root: string;
  private readonly rateLimitRoot: string;

  constructor(
    keyPrefix: string,
    /** At least 32 bytes; the same on every instance. */
    private readonly hashKey: Buffer,
  ) {
    if (hashKey.length < 32) throw new Error('The cache key hashing key must be at least 32 bytes');
    // A brace in the prefix would become every key's hash tag: the whole cache in one slot.
    if (/[{}]/.test(keyPrefix))
      throw new Error(`The cache key prefix "${keyPrefix}" must not contain { or }`);
    this.root = `${keyPrefix}:${KEY_SCHEMA_VERSION}`;
    this.rateLimitRoot = `${keyPrefix}:rl`;
  }

  user(userId: string): string {
    return `${this.root}:${this.slotOf(userId)}:user`;
  }

  /** Session state lives in its user's slot: a session is always read together with its user. */
  session(userId: string, sessionId: string): string {
    return `${this.root}:${this.slotOf(userId)}:session:${sessionId}`;
  }

  profile(userId: string): string {
    return `${this.root}:${this.slotOf(userId)}:profile`;
  }

  /** The tag every cached thing of a user carries (`user:<id>`, as POST /admin/cache/invalidate takes it). */
  userTag(userId: string): string {
    return `user:${userId}`;
  }

  /** The user id registered with a normalised email. */
  userByEmail(normalizedEmail: string): string {
    return `${this.root}:email:${this.digest(normalizedEmail)}`;
  }

  /** The user a provider account signs in. */
  oauthAccount(provider: string, providerAccountId: string): string {
    return `${this.root}:oauth:${provider}:${this.digest(providerAccountId)}`;
  }

  /** A cached HTTP response: route template, caller (in the caller's slot) or public, and a hash of the query. */
  httpResponse({ route, caller, query }: ResponseKeyParts): string {
    // A query can hold an email (the admin user search): keyed like one.
    const queryHash = this.digest(query).slice(0, 16);
    return caller === undefined
      ? `${this.root}:http:${route}:public:${queryHash}`
      : `${this.root}:${this.slotOf(caller)}:http:${route}:${queryHash}`;
  }

  /** The key prefix of one rate limit's counters (rate-limiter-flexible appends `:<subject>`). */
  rateLimit(limit: string): string {
    return `${this.rateLimitRoot}:${limit}`;
  }

  /** The subject of an account's counters: the HMAC of its normalised email. */
  rateLimitAccount(normalizedEmail: string): string {
    return this.digest(normalizedEmail);
  }

  /** The subject of one (account, client IP) pair's counters: failure streaks, lockouts, known clients. */
  rateLimitAccountAtIp(normalizedEmail: string, ip: string): string {
    return `${this.rateLimitAccount(normalizedEmail)}:${ip}`;
  }

  private digest(value: string): string {
    return createHmac('sha256', this.hashKey).update(value, 'utf8').digest('hex');
  }

  /** The hash tag of a user's keys: the text of the user's tag, so the tag set shares their slot. */
  private slotOf(userId: string): string {
    return `{${this.userTag(userId)}}`;
  }
}
