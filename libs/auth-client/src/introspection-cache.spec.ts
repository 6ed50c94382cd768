import { IntrospectionCache } from './introspection-cache';

/** A manual clock: the cache's only notion of time in these tests. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('IntrospectionCache', () => {
  const TTL = 5_000;
  const FAR = Number.POSITIVE_INFINITY;

  it('reuses an answer for at most ttlMs: one load per TTL however many reads', async () => {
    const clock = manualClock();
    const cache = new IntrospectionCache<string>({ ttlMs: TTL, maxEntries: 100, clock: clock.now });
    let loads = 0;
    const load = async () => `answer-${++loads}`;
    const seen: string[] = [];
    // 10 reads a second for 20 s: 200 reads.
    for (let i = 0; i < 200; i++) {
      seen.push(await cache.get('t', FAR, load));
      clock.advance(100);
    }
    expect(loads).toBe(4); // 20 s / 5 s
    expect(new Set(seen)).toEqual(new Set(['answer-1', 'answer-2', 'answer-3', 'answer-4']));
    expect(seen.filter((a) => a === 'answer-1')).toHaveLength(50);
  });

  it('the TTL runs from when the request was SENT: a slow answer does not extend it', async () => {
    const clock = manualClock();
    const cache = new IntrospectionCache<string>({ ttlMs: TTL, maxEntries: 100, clock: clock.now });
    const slow = deferred<string>();
    const first = cache.get('t', FAR, () => slow.promise);
    clock.advance(3_000); // the auth service takes 3 s to answer
    slow.resolve('active');
    await expect(first).resolves.toBe('active');
    clock.advance(1_999); // 4 999 ms after sending: still cached
    await expect(cache.get('t', FAR, async () => 'reloaded')).resolves.toBe('active');
    clock.advance(1); // 5 000 ms after sending: gone
    await expect(cache.get('t', FAR, async () => 'reloaded')).resolves.toBe('reloaded');
  });

  it('an answer that took longer than the TTL is not cached at all', async () => {
    const clock = manualClock();
    const cache = new IntrospectionCache<string>({ ttlMs: TTL, maxEntries: 100, clock: clock.now });
    const slow = deferred<string>();
    const first = cache.get('t', FAR, () => slow.promise);
    clock.advance(TTL + 1);
    slow.resolve('active');
    await first;
    expect(cache.size).toBe(0);
  });

  it('never outlives notAfter (the token expiry)', async () => {
    const clock = manualClock();
    const cache = new IntrospectionCache<string>({ ttlMs: TTL, maxEntries: 100, clock: clock.now });
    const notAfter = clock.now() + 1_000;
    await cache.get('t', notAfter, async () => 'active');
    clock.advance(999);
    await expect(cache.get('t', notAfter, async () => 'again')).resolves.toBe('active');
    clock.advance(1);
    await expect(cache.get('t', notAfter, async () => 'again')).resolves.toBe('again');
  });

  it('single-flight: 500 concurrent misses of one key cost one load', async () => {
    const clock = manualClock();
    const cache = new IntrospectionCache<string>({ ttlMs: TTL, maxEntries: 100, clock: clock.now });
    const pending = deferred<string>();
    let loads = 0;
    const reads = Array.from({ length: 500 }, () =>
      cache.get('hot', FAR, () => {
        loads++;
        return pending.promise;
      }),
    );
    pending.resolve('active');
    expect(await Promise.all(reads)).toEqual(Array(500).fill('active'));
    expect(loads).toBe(1);
    expect(cache.stats.loads).toBe(1);
  });

  it('different keys do not share a load', async () => {
    const clock = manualClock();
    const cache = new IntrospectionCache<string>({ ttlMs: TTL, maxEntries: 100, clock: clock.now });
    const [a, b] = await Promise.all([
      cache.get('a', FAR, async () => 'A'),
      cache.get('b', FAR, async () => 'B'),
    ]);
    expect([a, b]).toEqual(['A', 'B']);
  });

  it('a failure is shared by the concurrent callers but never cached', async () => {
    const clock = manualClock();
    const cache = new IntrospectionCache<string>({ ttlMs: TTL, maxEntries: 100, clock: clock.now });
    const failing = deferred<string>();
    const reads = Array.from({ length: 3 }, () => cache.get('t', FAR, () => failing.promise));
    failing.reject(new Error('unreachable'));
    for (const read of reads) await expect(read).rejects.toThrow('unreachable');
    expect(cache.size).toBe(0);
    await expect(cache.get('t', FAR, async () => 'active')).resolves.toBe('active');
    expect(cache.stats.failures).toBe(1);
  });

  it('a load that throws synchronously does not wedge the key', async () => {
    const clock = manualClock();
    const cache = new IntrospectionCache<string>({ ttlMs: TTL, maxEntries: 100, clock: clock.now });
    await expect(
      cache.get('t', FAR, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(cache.get('t', FAR, async () => 'active')).resolves.toBe('active');
  });

  it('keeps at most maxEntries answers', async () => {
    const clock = manualClock();
    const cache = new IntrospectionCache<number>({ ttlMs: TTL, maxEntries: 10, clock: clock.now });
    for (let i = 0; i < 100; i++) await cache.get(`k${i}`, FAR, async () => i);
    expect(cache.size).toBe(10);
  });

  it('ttlMs 0 caches nothing (every read asks)', async () => {
    const clock = manualClock();
    const cache = new IntrospectionCache<string>({ ttlMs: 0, maxEntries: 10, clock: clock.now });
    let loads = 0;
    for (let i = 0; i < 5; i++) await cache.get('t', FAR, async () => `${++loads}`);
    expect(loads).toBe(5);
  });
});
