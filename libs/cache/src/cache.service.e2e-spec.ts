import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { RedisService } from '@app/redis';
import { defineCacheEntity } from './cache-entity';
import { CacheEntityRegistry } from './cache-entity.registry';
import { CacheTiers } from './cache-tiers';
import { CacheOptions } from './cache.options';
import { CacheService, EntrySpec } from './cache.service';
import { CacheInternalKeys } from './internal-keys';
import { waitUntil } from '../../../test/support/wait-until';
import { ChaosRedis } from './testing/chaos-redis';

/**
 * One behaviour suite, run against every way the cache can be deployed: in-process only (no
 * Redis) and L1 + a real Redis. Then what only Redis mode has: several instances, and failures
 * injected by a chaos wrapper around the real client.
 */
const redisUrl = process.env.E2E_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
let prefixCounter = 0;

/** The entities of this suite: the library knows none, so a suite (like an app) registers its own. */
type Entry = Record<string, unknown>;
const ENTITIES = {
  user: defineCacheEntity<Entry>('user'),
  session: defineCacheEntity<Entry>('session'),
  profile: defineCacheEntity<Entry>('profile'),
  oauth: defineCacheEntity<Entry>('oauth'),
  http: defineCacheEntity<Entry>('http'),
};
const { user: USER, session: SESSION, profile: PROFILE, oauth: OAUTH, http: HTTP } = ENTITIES;

function registry(ttlSeconds: number): CacheEntityRegistry {
  const entities = new CacheEntityRegistry();
  entities.register([
    { entity: USER, ttlSeconds, consistency: 'strict' },
    { entity: SESSION, ttlSeconds, consistency: 'strict' },
    { entity: PROFILE, ttlSeconds, consistency: 'strict' },
    { entity: OAUTH, ttlSeconds, consistency: 'eventual' },
    { entity: HTTP, ttlSeconds, consistency: 'eventual' },
  ]);
  return entities;
}

function options(overrides: Partial<CacheOptions> = {}): CacheOptions {
  prefixCounter++;
  return {
    enabled: true,
    keyPrefix: `e2e_${process.env.E2E_RUN_ID ?? 'local'}_cache${prefixCounter}`,
    schemaVersion: 'v1',
    ttlJitter: 0.1,
    negativeTtlSeconds: 30,
    l1MaxEntries: 1000,
    l1TtlSeconds: 60,
    redisTimeoutMs: 50,
    breaker: { failureThreshold: 3, cooldownMs: 300 },
    ...overrides,
  };
}

interface Harness {
  cache: CacheService;
  /** A key of this cache's prefix (instances made with the same options share it). */
  key(entity: keyof typeof ENTITIES, id: string): string;
  chaos?: ChaosRedis;
  /** The pub/sub connection (Redis mode). */
  subscriber?: Redis;
  close(): Promise<void>;
}

/** The in-process waits below: all of it happens within milliseconds on loopback. */
const SOON = { timeoutMs: 3_000, intervalMs: 5 };

const clients: Redis[] = [];

async function makeCache(
  mode: 'local' | 'redis',
  opts: CacheOptions = options(),
  ttlSeconds = 60,
  entities = registry(ttlSeconds),
): Promise<Harness> {
  const key = (entity: string, id: string) => `${opts.keyPrefix}:${entity}:${id}`;
  const keys = new CacheInternalKeys(opts);
  if (mode === 'local') {
    const cache = new CacheService(new CacheTiers(opts, entities), keys);
    return { cache, key, close: async () => cache.onApplicationShutdown() };
  }
  const real = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  clients.push(real);
  const chaos = new ChaosRedis(real);
  let subscriber: Redis | undefined;
  const redis = {
    client: chaos.client,
    duplicate: () => {
      subscriber = real.duplicate();
      clients.push(subscriber);
      return subscriber;
    },
  } as unknown as RedisService;
  const cache = new CacheService(new CacheTiers(opts, entities, redis), keys, redis);
  await waitUntil(() => real.status, {
    what: 'the Redis client ready',
    until: (s) => s === 'ready',
    ...SOON,
  });
  // The invalidation channel subscribes asynchronously.
  if (opts.enabled)
    await waitUntil(() => (cache as unknown as { bus?: { healthy: boolean } }).bus?.healthy, {
      what: 'the invalidation channel subscribed',
      until: (healthy) => healthy === true,
      ...SOON,
    });
  return { cache, key, chaos, subscriber, close: async () => cache.onApplicationShutdown() };
}

function counter<T>(value: () => T | null) {
  const loader = { calls: 0, load: async () => (loader.calls++, value()) };
  return loader;
}

afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
});

describe.each(['local', 'redis'] as const)('CacheService behaviour (%s)', (mode) => {
  let h: Harness;
  beforeEach(async () => (h = await makeCache(mode)));
  afterEach(() => h.close());

  const entities = ['user', 'oauth'] as const;

  it.each(entities)('reads through once, then serves from the cache (%s)', async (entity) => {
    const loader = counter(() => ({ id: 'u1', name: 'Ada' }));
    const key = h.key('user', `a-${entity}`);
    for (let i = 0; i < 3; i++)
      await expect(h.cache.getOrLoad({ entity: ENTITIES[entity], key, load: loader.load })).resolves.toEqual({
        id: 'u1',
        name: 'Ada',
      });
    expect(loader.calls).toBe(1);
  });

  it('peekMany answers only when every entry is in memory and present: never loads, never waits', async () => {
    const [k1, k2] = [h.key('user', 'peek1'), h.key('user', 'peek2')];
    const specs: [EntrySpec<Entry>, EntrySpec<Entry>] = [
      { entity: USER, key: k1 },
      { entity: USER, key: k2 },
    ];
    expect(h.cache.peekMany(specs)).toBeUndefined();
    await h.cache.getOrLoad({ entity: USER, key: k1, load: async () => ({ id: 'peek1' }) });
    expect(h.cache.peekMany(specs)).toBeUndefined(); // one of two
    await h.cache.getOrLoad({ entity: USER, key: k2, load: async () => null });
    expect(h.cache.peekMany(specs)).toBeUndefined(); // a negative entry is not an answer
    await h.cache.set(USER, k2, { id: 'peek2' });
    // Without Redis L1 is the cache; with Redis, a strict entity is not trusted from L1 here.
    if (mode === 'local') expect(h.cache.peekMany(specs)).toEqual([{ id: 'peek1' }, { id: 'peek2' }]);
    else expect(h.cache.peekMany(specs)).toBeUndefined();
    await h.cache.delete([k1]);
    expect(h.cache.peekMany(specs)).toBeUndefined();
  });

  it('caches an absent row briefly, and the write that creates it replaces the negative entry', async () => {
    const key = h.key('user', 'absent');
    const loader = counter<{ id: string }>(() => null);
    expect(await h.cache.getOrLoad({ entity: USER, key, load: loader.load })).toBeNull();
    expect(await h.cache.getOrLoad({ entity: USER, key, load: loader.load })).toBeNull();
    expect(loader.calls).toBe(1);
    await h.cache.set(USER, key, { id: 'absent' });
    expect(await h.cache.getOrLoad({ entity: USER, key, load: loader.load })).toEqual({ id: 'absent' });
    expect(loader.calls).toBe(1);
  });

  it('shares one load among concurrent misses (single-flight)', async () => {
    let calls = 0;
    const load = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 30));
      return { id: 'sf' };
    };
    const key = h.key('user', 'single-flight');
    const results = await Promise.all(
      Array.from({ length: 200 }, () => h.cache.getOrLoad({ entity: USER, key, load })),
    );
    expect(results.every((r) => r?.id === 'sf')).toBe(true);
    expect(calls).toBe(1);
  });

  it('write-through: the next read returns the written value without loading', async () => {
    const key = h.key('profile', 'wt');
    const loader = counter(() => ({ bio: 'old' }));
    await h.cache.getOrLoad({ entity: PROFILE, key, load: loader.load });
    await h.cache.set(PROFILE, key, { bio: 'new' });
    expect(await h.cache.getOrLoad({ entity: PROFILE, key, load: loader.load })).toEqual({ bio: 'new' });
    expect(loader.calls).toBe(1);
  });

  it('delete makes the next read load again', async () => {
    const key = h.key('session', 'del');
    const loader = counter(() => ({ id: 'del' }));
    await h.cache.getOrLoad({ entity: SESSION, key, load: loader.load });
    await h.cache.delete([key]);
    await h.cache.getOrLoad({ entity: SESSION, key, load: loader.load });
    expect(loader.calls).toBe(2);
  });

  it('invalidating a tag removes every entry carrying it, and only those', async () => {
    const tagged = [h.key('http', '/a:u1'), h.key('http', '/b:u1')];
    const other = h.key('http', '/a:u2');
    for (const key of tagged) await h.cache.set(HTTP, key, { key }, { tags: ['user:u1'] });
    await h.cache.set(HTTP, other, { key: other }, { tags: ['user:u2'] });
    expect(await h.cache.invalidateTag('user:u1')).toBe(2);
    const loader = counter(() => ({ reloaded: true }));
    for (const key of tagged)
      expect(await h.cache.getOrLoad({ entity: HTTP, key, load: loader.load })).toEqual({ reloaded: true });
    expect(await h.cache.getOrLoad({ entity: HTTP, key: other, load: loader.load })).toEqual({
      key: other,
    });
  });

  it('warming stores a value once; a second warm, or one over a write, finds it present and changes nothing', async () => {
    const key = h.key('user', 'warmed');
    await expect(h.cache.warm({ entity: USER, key }, { v: 'warmed' })).resolves.toBe('stored');
    await expect(h.cache.warm({ entity: USER, key }, { v: 'older read' })).resolves.toBe('present');
    const loader = counter(() => ({ v: 'loaded' }));
    await expect(h.cache.getOrLoad({ entity: USER, key, load: loader.load })).resolves.toEqual({
      v: 'warmed',
    });
    expect(loader.calls).toBe(0);

    const written = h.key('user', 'written');
    await h.cache.set(USER, written, { v: 'written' });
    await expect(h.cache.warm({ entity: USER, key: written }, { v: 'older read' })).resolves.toBe('present');
    await expect(h.cache.getOrLoad({ entity: USER, key: written, load: loader.load })).resolves.toEqual({
      v: 'written',
    });
  });

  it('keeps Dates as Dates', async () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    const key = h.key('session', 'dates');
    await h.cache.set(SESSION, key, { expiresAt: at, revokedAt: null });
    const value = await h.cache.getOrLoad({ entity: SESSION, key, load: async () => null });
    expect(value?.expiresAt).toBeInstanceOf(Date);
    expect((value?.expiresAt as Date).getTime()).toBe(at.getTime());
  });

  it('lets a write made during a slow load win over the older value the load read', async () => {
    const key = h.key('session', 'race');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = h.cache.getOrLoad({
      entity: SESSION,
      key,
      load: async () => (await gate, { revoked: false }),
    });
    await new Promise((r) => setTimeout(r, 10));
    await h.cache.set(SESSION, key, { revoked: true });
    release();
    await slow;
    expect(await h.cache.getOrLoad({ entity: SESSION, key, load: async () => ({ revoked: false }) })).toEqual(
      { revoked: true },
    );
  });

  it('expires entries after their TTL', async () => {
    await h.close();
    h = await makeCache(mode, options({ l1TtlSeconds: 1 }), 1);
    const key = h.key('user', 'ttl');
    const loader = counter(() => ({ id: 'ttl' }));
    await h.cache.getOrLoad({ entity: USER, key, load: loader.load });
    await new Promise((r) => setTimeout(r, 1_300));
    await h.cache.getOrLoad({ entity: USER, key, load: loader.load });
    expect(loader.calls).toBe(2);
  });

  it('with the cache disabled, always loads and never stores', async () => {
    await h.close();
    h = await makeCache(mode, options({ enabled: false }));
    const key = h.key('user', 'off');
    const loader = counter(() => ({ id: 'off' }));
    await h.cache.getOrLoad({ entity: USER, key, load: loader.load });
    await h.cache.set(USER, key, { id: 'written' });
    expect(await h.cache.getOrLoad({ entity: USER, key, load: loader.load })).toEqual({ id: 'off' });
    expect(loader.calls).toBe(2);
  });
});

describe('CacheService across instances (Redis)', () => {
  let a: Harness;
  let b: Harness;
  beforeEach(async () => {
    const opts = options();
    a = await makeCache('redis', opts);
    b = await makeCache('redis', { ...opts });
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  it('strict entities: a write on A is what B reads next, with no wait', async () => {
    const key = a.key('user', 'strict');
    for (let i = 0; i < 50; i++) {
      await a.cache.set(USER, key, { version: i });
      expect(await b.cache.getOrLoad({ entity: USER, key, load: async () => ({ version: -1 }) })).toEqual({
        version: i,
      });
    }
  });

  it.each(['delete', 'write'] as const)(
    'a fill on B that read the source before a %s on A does not store what it read afterwards',
    async (change) => {
      const key = a.key('user', `fill-race-${change}`);
      let source = { version: 'old' };
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let loadStarted!: () => void;
      const started = new Promise<void>((r) => (loadStarted = r));
      // B misses, reads the source (old), and is held before it stores.
      const slow = b.cache.getOrLoad({
        entity: USER,
        key,
        load: async () => {
          const read = source;
          loadStarted();
          await gate;
          return read;
        },
      });
      await started;
      // A changes the source, then the cache: a delete (an email mapping) or a write-through, on
      // ITS instance (B's own in-flight bookkeeping knows nothing of it).
      source = { version: 'new' };
      if (change === 'delete') await a.cache.delete([key]);
      else await a.cache.set(USER, key, source);
      release();
      expect(await slow).toEqual({ version: 'old' });
      // Nobody may be served the old value B read: the next read on either instance sees 'new'.
      const loader = counter(() => source);
      for (const instance of [a, b])
        expect(await instance.cache.getOrLoad({ entity: USER, key, load: loader.load })).toEqual({
          version: 'new',
        });
    },
  );

  it('eventual entities: B serves its L1 copy, and drops it when A publishes a write', async () => {
    const key = a.key('oauth', 'github:42');
    const loader = counter(() => ({ userId: 'old' }));
    await b.cache.getOrLoad({ entity: OAUTH, key, load: loader.load });
    const before = b.cache.counters.hits.l1;
    await b.cache.getOrLoad({ entity: OAUTH, key, load: loader.load });
    expect(b.cache.counters.hits.l1).toBe(before + 1);
    await a.cache.set(OAUTH, key, { userId: 'new' });
    await waitUntil(() => b.cache.counters.invalidationsReceived, {
      what: 'B receiving the invalidation',
      until: (received) => received > 0,
      ...SOON,
    });
    expect(await b.cache.getOrLoad({ entity: OAUTH, key, load: loader.load })).toEqual({ userId: 'new' });
  });
});

describe('CacheService strict L1 with acknowledged invalidation (Redis)', () => {
  // Long enough that a loaded CI box (event-loop stalls) does not let the trust lapse mid-test.
  const TRUST_MS = 1_000;
  let a: Harness;
  let b: Harness;
  beforeEach(async () => {
    // A generous Redis timeout: the overlap case delays answers on purpose.
    const opts = options({ strictL1: { trustMs: TRUST_MS }, redisTimeoutMs: 1_000 });
    [a, b] = await Promise.all([makeCache('redis', opts), makeCache('redis', { ...opts })]);
    // Trust starts with the first heartbeat that comes back.
    await waitUntil(() => [a, b].map((h) => h.cache.strictL1Trusted), {
      what: 'both caches trusting strict entries in L1',
      until: (trusted) => trusted.every(Boolean),
      ...SOON,
    });
  });
  afterEach(async () => {
    if (b.subscriber?.stream.isPaused()) b.subscriber.stream.resume();
    await Promise.all([a.close(), b.close()]);
  });

  const read = (h: Harness, key: string, version = -1) =>
    h.cache.getOrLoad({ entity: SESSION, key, load: async () => ({ version }) });

  it('serves a strict entry from L1: repeated reads make no Redis call', async () => {
    const key = a.key('session', 'l1');
    await a.cache.set(SESSION, key, { version: 1 });
    await read(b, key);
    const reads: string[] = [];
    // Heartbeats (PUBLISH) run meanwhile; reads would show as GET or MGET.
    const onCall = ({ operation }: { operation: string }) => {
      if (operation !== 'publish') reads.push(operation);
    };
    b.cache.events.on('latency', onCall);
    const hits = b.cache.counters.hits.l1;
    for (let i = 0; i < 100; i++) expect(await read(b, key)).toEqual({ version: 1 });
    b.cache.events.off('latency', onCall);
    expect(b.cache.counters.hits.l1).toBe(hits + 100);
    expect(reads).toEqual([]);
  });

  it('peekMany serves from L1 while it is trusted, and stops the moment a write on A drops the entry', async () => {
    const key = a.key('session', 'peek');
    const spec = { entity: SESSION, key };
    await a.cache.set(SESSION, key, { version: 1 });
    await read(b, key);
    expect(b.cache.peekMany([spec, spec])).toEqual([{ version: 1 }, { version: 1 }]);
    await a.cache.set(SESSION, key, { version: 2 });
    expect(b.cache.peekMany([spec, spec])).toBeUndefined();
    await read(b, key);
    expect(b.cache.peekMany([spec, spec])).toEqual([{ version: 2 }, { version: 2 }]);
  });

  it('a write on A returns only after B dropped its L1 copy: B reads it next, 100 times out of 100', async () => {
    const key = a.key('session', 'ack');
    for (let i = 0; i < 100; i++) {
      await read(b, key); // B holds version i - 1 (or the loader's) in L1
      await a.cache.set(SESSION, key, { version: i });
      expect(await read(b, key)).toEqual({ version: i });
    }
  });

  it('an instance whose channel stalls stops trusting L1 before a writer that waited for it returns', async () => {
    const key = a.key('session', 'stall');
    await a.cache.set(SESSION, key, { revoked: false });
    expect(await read(b, key)).toEqual({ revoked: false }); // in B's L1 now
    b.subscriber!.stream.pause(); // B's pub/sub socket stops being read: no invalidation, no heartbeat
    const started = performance.now();
    await a.cache.set(SESSION, key, { revoked: true });
    const waited = performance.now() - started;
    // A waited for B's acknowledgement until the trust window ended...
    expect(waited).toBeGreaterThanOrEqual(TRUST_MS * 0.5);
    expect(waited).toBeLessThan(TRUST_MS + 1_000); // bounded (generously: a loaded box is slow)
    // ...and B, still deaf to the channel, no longer serves its L1 copy.
    expect(b.cache.strictL1Trusted).toBe(false);
    expect(await read(b, key)).toEqual({ revoked: true });
  });

  it('a Redis read that overlaps an invalidation does not put what it read into L1', async () => {
    const key = a.key('session', 'overlap');
    await a.cache.set(SESSION, key, { revoked: false });
    b.chaos!.slowMs = 150;
    b.chaos!.mode = 'slow';
    // B's GET runs now (before A's write) and its answer arrives after A's invalidation.
    const slowRead = read(b, key);
    await new Promise((r) => setTimeout(r, 20));
    await a.cache.set(SESSION, key, { revoked: true });
    b.chaos!.mode = 'ok';
    // Concurrent with the write: either answer is right for this read; what matters is the next one.
    expect([false, true]).toContain(((await slowRead) as { revoked?: boolean } | null)?.revoked);
    expect(await read(b, key)).toEqual({ revoked: true });
  });
});

describe('CacheService strict L1 when the writer cannot tell who received an invalidation (Redis)', () => {
  const TRUST_MS = 1_000;
  let a: Harness;
  let b: Harness;
  beforeEach(async () => {
    // A short Redis timeout, so that A's calls time out well within B's trust window.
    const opts = options({ strictL1: { trustMs: TRUST_MS }, redisTimeoutMs: 100 });
    [a, b] = await Promise.all([makeCache('redis', opts), makeCache('redis', { ...opts })]);
    await waitUntil(() => [a, b].map((h) => h.cache.strictL1Trusted), {
      what: 'both caches trusting strict entries in L1',
      until: (trusted) => trusted.every(Boolean),
      ...SOON,
    });
  });
  afterEach(async () => {
    if (b.subscriber?.stream.isPaused()) b.subscriber.stream.resume();
    await Promise.all([a.close(), b.close()]);
  });

  it("a PUBLISH whose reply comes too late: A's write returns only once B can no longer serve its L1 copy", async () => {
    const key = a.key('session', 'late-publish');
    await a.cache.set(SESSION, key, { revoked: false });
    expect(await b.cache.getOrLoad({ entity: SESSION, key, load: async () => null })).toEqual({
      revoked: false,
    });
    // B is slow to read its channel; A's commands run but their replies arrive after A's timeout.
    b.subscriber!.stream.pause();
    a.chaos!.slowMs = 150;
    a.chaos!.mode = 'slow';
    await a.cache.set(SESSION, key, { revoked: true });
    a.chaos!.mode = 'ok';
    expect(await b.cache.getOrLoad({ entity: SESSION, key, load: async () => null })).toEqual({
      revoked: true,
    });
  });
});

describe('CacheService invalidation channel (Redis)', () => {
  let h: Harness;
  beforeEach(async () => (h = await makeCache('redis')));
  afterEach(() => h.close());

  it('flushes L1 when the channel drops, serves eventual entries from Redis meanwhile, and resumes L1 after resubscribing', async () => {
    const key = h.key('oauth', 'oidc:flush');
    const loader = counter(() => ({ userId: 'u' }));
    await h.cache.getOrLoad({ entity: OAUTH, key, load: loader.load });
    const internals = h.cache as unknown as { subscriber: Redis; bus: { healthy: boolean } };
    const l1Hits = () => h.cache.counters.hits.l1;

    let before = l1Hits();
    await h.cache.getOrLoad({ entity: OAUTH, key, load: loader.load });
    expect(l1Hits()).toBe(before + 1);

    internals.subscriber.disconnect(true); // drop the connection; ioredis reconnects by itself
    await waitUntil(() => internals.bus.healthy, {
      what: 'the channel seen unhealthy',
      until: (healthy) => !healthy,
      ...SOON,
    });
    before = l1Hits();
    await h.cache.getOrLoad({ entity: OAUTH, key, load: loader.load });
    expect(l1Hits()).toBe(before); // not from L1: invalidations could be missed right now

    await waitUntil(() => internals.bus.healthy, { what: 'the channel healthy again', ...SOON });
    before = l1Hits();
    await h.cache.getOrLoad({ entity: OAUTH, key, load: loader.load });
    expect(l1Hits()).toBe(before); // L1 was flushed on resubscribe: this one came from Redis
    before = l1Hits();
    await h.cache.getOrLoad({ entity: OAUTH, key, load: loader.load });
    expect(l1Hits()).toBe(before + 1);
    expect(loader.calls).toBe(1);
  });
});

describe('CacheService under Redis failures (chaos)', () => {
  let h: Harness;
  beforeEach(async () => (h = await makeCache('redis')));
  afterEach(() => h.close());

  it.each(['error', 'hang'] as const)(
    '%s: every read still answers from the loader, failures are counted',
    async (mode) => {
      h.chaos!.mode = mode;
      const key = h.key('user', `chaos-${mode}`);
      const started = performance.now();
      for (let i = 0; i < 5; i++) {
        await expect(h.cache.getOrLoad({ entity: USER, key, load: async () => ({ i }) })).resolves.toEqual({
          i,
        });
      }
      // Bounded: at most `failureThreshold` calls can wait for the 50 ms timeout.
      expect(performance.now() - started).toBeLessThan(3 * 50 + 100);
      expect(h.cache.counters.errors).toBeGreaterThanOrEqual(3);
      expect(h.cache.breaker.state).toBe('open');
    },
  );

  it.each(['error', 'hang'] as const)(
    '%s: warming reports an entry Redis did not take as failed, never as stored',
    async (mode) => {
      h.chaos!.mode = mode;
      const key = h.key('user', `warm-${mode}`);
      await expect(h.cache.warm({ entity: USER, key }, { v: 1 })).resolves.toBe('failed');
      h.chaos!.mode = 'ok';
      const loader = counter(() => ({ v: 2 }));
      await expect(h.cache.getOrLoad({ entity: USER, key, load: loader.load })).resolves.toEqual({ v: 2 });
      expect(loader.calls).toBe(1);
    },
  );

  it('an open circuit adds no Redis calls and no latency', async () => {
    h.chaos!.mode = 'hang';
    const key = h.key('user', 'open');
    for (let i = 0; i < 3; i++) await h.cache.getOrLoad({ entity: USER, key, load: async () => ({ i }) });
    expect(h.cache.breaker.state).toBe('open');
    const calls = h.chaos!.calls;
    const started = performance.now();
    for (let i = 0; i < 100; i++) await h.cache.getOrLoad({ entity: USER, key, load: async () => ({ i }) });
    expect(h.chaos!.calls).toBe(calls);
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('recovers: after the cool-down a probe closes the circuit and hits resume', async () => {
    h.chaos!.mode = 'error';
    const key = h.key('user', 'recover');
    for (let i = 0; i < 3; i++) await h.cache.getOrLoad({ entity: USER, key, load: async () => ({ v: 1 }) });
    expect(h.cache.breaker.state).toBe('open');
    h.chaos!.mode = 'ok';
    await new Promise((r) => setTimeout(r, 350));
    const loader = counter(() => ({ v: 2 }));
    await h.cache.getOrLoad({ entity: USER, key, load: loader.load });
    expect(h.cache.breaker.state).toBe('closed');
    await h.cache.getOrLoad({ entity: USER, key, load: loader.load });
    expect(loader.calls).toBe(1);
  });

  it('logs once when an outage starts and once when it ends, not at every failed probe', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    try {
      h.chaos!.mode = 'error';
      const key = h.key('user', 'outage-log');
      const read = () => h.cache.getOrLoad({ entity: USER, key, load: async () => ({ v: 1 }) });
      for (let i = 0; i < 3; i++) await read();
      for (let probe = 0; probe < 3; probe++) {
        await new Promise((r) => setTimeout(r, 350));
        await read(); // the probe, which fails
        expect(h.cache.breaker.state).toBe('open');
      }
      h.chaos!.mode = 'ok';
      await new Promise((r) => setTimeout(r, 350));
      await read();
      expect(h.cache.breaker.state).toBe('closed');
      const said = (spy: jest.SpyInstance) =>
        spy.mock.calls.filter(([m]) => /circuit/.test(String(m))).length;
      expect({ warned: said(warn), logged: said(log) }).toEqual({ warned: 1, logged: 1 });
    } finally {
      warn.mockRestore();
      log.mockRestore();
    }
  });

  it('replays an invalidation that failed during the outage once Redis answers again', async () => {
    const key = h.key('session', 'replay');
    await h.cache.set(SESSION, key, { revoked: false });
    h.chaos!.mode = 'error';
    await h.cache.set(SESSION, key, { revoked: true }); // cannot reach Redis: remembered
    for (let i = 0; i < 3; i++)
      await h.cache.getOrLoad({ entity: SESSION, key, load: async () => ({ revoked: true }) });
    h.chaos!.mode = 'ok';
    await new Promise((r) => setTimeout(r, 350));
    // The probe succeeds, the circuit closes and the stale entry is deleted.
    await h.cache.getOrLoad({ entity: USER, key: h.key('user', 'probe'), load: async () => ({}) });
    await waitUntil(() => h.cache.breaker.state, {
      what: 'the circuit closed',
      until: (state) => state === 'closed',
      ...SOON,
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(await h.cache.getOrLoad({ entity: SESSION, key, load: async () => ({ revoked: true }) })).toEqual({
      revoked: true,
    });
  });
  it('replays a write that missed Redis while the circuit stayed closed (one failure): no event needed', async () => {
    const key = h.key('session', 'one-miss');
    await h.cache.set(SESSION, key, { revoked: false });
    h.chaos!.mode = 'error';
    await h.cache.set(SESSION, key, { revoked: true }); // one failure: remembered, the circuit stays closed
    h.chaos!.mode = 'ok';
    expect(h.cache.breaker.state).toBe('closed');
    expect(h.cache.missedInvalidations).toBe(1);
    await waitUntil(() => h.cache.missedInvalidations, {
      what: 'the missed write replayed',
      until: (n) => n === 0,
      timeoutMs: 3_000,
      intervalMs: 20,
    });
    const loader = counter(() => ({ revoked: true }));
    expect(await h.cache.getOrLoad({ entity: SESSION, key, load: loader.load })).toEqual({ revoked: true });
  });

  it('a write that missed Redis is replayed when the instance stops, even with the circuit open', async () => {
    const other = await makeCache('redis', (h.cache as unknown as { options: CacheOptions }).options);
    try {
      const key = h.key('user', 'replay-on-stop');
      await h.cache.set(USER, key, { roles: ['user'] });
      h.chaos!.mode = 'error';
      await h.cache.set(USER, key, { roles: ['user', 'admin'] }); // missed: Redis still says 'user'
      for (let i = 0; i < 3; i++) await h.cache.getOrLoad({ entity: USER, key, load: async () => null });
      expect(h.cache.breaker.state).toBe('open');
      h.chaos!.mode = 'ok';
      await h.cache.beforeApplicationShutdown(); // the stopping instance, circuit still open
      const loader = counter(() => ({ roles: ['user', 'admin'] }));
      expect(await other.cache.getOrLoad({ entity: USER, key, load: loader.load })).toEqual({
        roles: ['user', 'admin'],
      });
      expect(loader.calls).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('an event loop stalled past the timeout does not count a prompt Redis as failing', async () => {
    const key = h.key('user', 'stalled-loop');
    await h.cache.set(USER, key, { v: 1 });
    const errors = h.cache.counters.errors;
    for (let i = 0; i < 5; i++) {
      const read = h.cache.getOrLoad({ entity: USER, key, load: async () => ({ v: 'from loader' }) });
      const until = performance.now() + 120; // the reply arrives while the loop is blocked
      while (performance.now() < until);
      expect(await read).toEqual({ v: 1 });
    }
    expect(h.cache.counters.errors).toBe(errors);
    expect(h.cache.breaker.state).toBe('closed');
  });
});

describe('encrypted entities in Redis', () => {
  const PERSONAL = defineCacheEntity<Entry>('personal');
  const sealedRegistry = () => {
    const entities = new CacheEntityRegistry();
    entities.register([{ entity: PERSONAL, ttlSeconds: 60, consistency: 'eventual', encrypted: true }]);
    return entities;
  };
  const raw = () => {
    const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    clients.push(client);
    return client;
  };

  it("an entry copied to another user's key does not open there: a miss, loaded from the source", async () => {
    const opts = options({ encryptionKey: randomBytes(32) });
    const [writer, reader] = [
      await makeCache('redis', opts, 60, sealedRegistry()),
      await makeCache('redis', opts, 60, sealedRegistry()),
    ];
    try {
      const alice = writer.key('user', 'alice');
      const mallory = writer.key('user', 'mallory');
      await writer.cache.set(PERSONAL, alice, { email: 'alice@example.com' });
      const redis = raw();
      const stored = await redis.get(alice);
      expect(stored).toMatch(/^enc2:[A-Za-z0-9_-]{8}:/);
      expect(stored).not.toContain('alice@');
      await redis.set(mallory, stored!, 'PX', 60_000);

      const loader = counter(() => ({ email: 'mallory@example.com' }));
      expect(await reader.cache.getOrLoad({ entity: PERSONAL, key: mallory, load: loader.load })).toEqual({
        email: 'mallory@example.com',
      });
      expect(loader.calls).toBe(1);
      // Under its own key the same bytes still open.
      const untouched = counter(() => ({ email: 'never loaded' }));
      expect(await reader.cache.getOrLoad({ entity: PERSONAL, key: alice, load: untouched.load })).toEqual({
        email: 'alice@example.com',
      });
      expect(untouched.calls).toBe(0);
    } finally {
      await Promise.all([writer.close(), reader.close()]);
    }
  });

  it('after the key changes, entries sealed with the old one are misses, not errors', async () => {
    const opts = options({ encryptionKey: randomBytes(32) });
    const before = await makeCache('redis', opts, 60, sealedRegistry());
    const after = await makeCache('redis', { ...opts, encryptionKey: randomBytes(32) }, 60, sealedRegistry());
    try {
      const key = before.key('user', 'rotated');
      await before.cache.set(PERSONAL, key, { email: 'old@example.com' });
      const errors = after.cache.counters.errors;
      const loader = counter(() => ({ email: 'new@example.com' }));
      expect(await after.cache.getOrLoad({ entity: PERSONAL, key, load: loader.load })).toEqual({
        email: 'new@example.com',
      });
      expect(loader.calls).toBe(1);
      expect(after.cache.counters.errors).toBe(errors);
    } finally {
      await Promise.all([before.close(), after.close()]);
    }
  });
});
