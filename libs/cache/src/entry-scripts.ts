import type { RedisClient } from '@app/redis';

/**
 * The Lua scripts that write cache entries. Each names exactly two keys, the entry and its
 * version key, which share a hash slot (CacheInternalKeys.version), so each runs in a Redis
 * Cluster as it does on one server.
 *
 * Why a version: a fill reads the database, then stores what it read. A write on another instance
 * (database first, then the entry deleted) that lands between the two would otherwise be undone
 * by the fill storing the older row after the delete (SET NX alone sees an empty key and writes).
 * So every write and delete stamps the entry's version key with a fresh random ticket, a fill
 * reads the ticket together with the entry before it loads, and stores only if the ticket is
 * still the one it read. A random ticket (not a counter) cannot come round to an old value when
 * the version key expires and is recreated.
 */
const SCRIPTS = {
  /** KEYS: entry, version. ARGV: value, ttl ms, ticket, version ttl ms. */
  cacheEntryWrite: `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
return 1`,
  /** KEYS: entry, version. ARGV: ticket, version ttl ms. */
  cacheEntryDelete: `
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1`,
  /** KEYS: entry, version. ARGV: value, ttl ms, the ticket read before loading ('' for none). 1 when stored. */
  cacheEntryFill: `
local current = redis.call('GET', KEYS[2]) or ''
if current ~= ARGV[3] then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
return 0`,
} as const;

type Script = (entryKey: string, versionKey: string, ...args: (string | number)[]) => Promise<number>;

export type EntryScripts = Record<keyof typeof SCRIPTS, Script>;

/** Registers the scripts on the client (EVALSHA, loaded on first use) and answers them typed. */
export function entryScripts(client: RedisClient): EntryScripts {
  for (const [name, lua] of Object.entries(SCRIPTS)) {
    if (!(name in client)) client.defineCommand(name, { numberOfKeys: 2, lua });
  }
  return client as unknown as EntryScripts;
}
