import { CacheService } from '@app/cache';
import { UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { countQueries } from './support/query-count';
import { everyRouteWithRedisBroken } from './support/route-sweep';
import { TcpProxy } from './support/tcp-proxy';
import { waitUntil } from './support/wait-until';

function p99(samples: number[]): number {
  const sorted = [...samples].sort((x, y) => x - y);
  const value = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)];
  if (value === undefined) throw new Error('p99 of no samples');
  return value;
}

/**
 * Redis unreachable (stopped) and Redis hanging (accepting connections, answering nothing),
 * through a TCP proxy in front of the test Redis: every route still answers correctly from
 * PostgreSQL, with no 5xx and no added latency once the circuit is open, and the cache comes
 * back by itself.
 */
describe.each([
  ['stopped', (p: TcpProxy) => p.cut()],
  ['hanging', (p: TcpProxy) => p.pause()],
] as const)('cache: Redis %s', (_label, breakRedis) => {
  let proxy: TcpProxy;
  let a: Instance;
  let b: Instance;
  const samples: number[] = [];

  beforeAll(async () => {
    proxy = await TcpProxy.forUrl(process.env.E2E_REDIS_URL!);
    const env = {
      REDIS_URL: proxy.url(process.env.E2E_REDIS_URL!),
      CACHE_KEY_PREFIX: `e2e_${process.env.E2E_RUN_ID}_faults_${_label}`,
    };
    [a, b] = await Promise.all([startInstance(env), startInstance(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await proxy?.close();
  });

  it('every route keeps answering correctly, with no 5xx, while Redis is broken', async () => {
    const statuses = await everyRouteWithRedisBroken(a, b, () => breakRedis(proxy));
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
  });

  it('/auth/me p99 stays under 250 ms while Redis is broken', async () => {
    const user = await UserFactory.register(a.http);
    for (let i = 0; i < 300; i++) {
      const started = performance.now();
      const res = await b.http.get('/api/v1/auth/me', { token: user.tokens.accessToken });
      samples.push(performance.now() - started);
      expect(res.status).toBe(200);
    }
    console.log(
      `Redis ${_label}: /auth/me p99 ${p99(samples).toFixed(1)} ms over ${samples.length} requests`,
    );
    expect(p99(samples)).toBeLessThan(250);
    expect(b.app.get(CacheService).breaker.state).toBe('open');
  });

  it('when Redis returns, the cache fills and hits resume (no more database queries)', async () => {
    await proxy.restore();
    const user = await UserFactory.register(a.http);
    const cache = b.app.get(CacheService);
    const token = user.tokens.accessToken;
    // Writes made while a circuit was still open (this registration's, on A) are replayed as
    // deletions once it closes: count only after both instances are past that.
    await waitUntil(
      async () => {
        await Promise.all([
          a.http.get('/api/v1/auth/me', { token }),
          b.http.get('/api/v1/auth/me', { token }),
        ]);
        return [a, b].map((i) => ({
          breaker: i.app.get(CacheService).breaker.state,
          missedInvalidations: i.app.get(CacheService).missedInvalidations,
        }));
      },
      {
        what: "both instances' circuits closed with no invalidation left to replay",
        until: (states) => states.every((s) => s.breaker === 'closed' && s.missedInvalidations === 0),
        timeoutMs: 10_000,
      },
    );
    await b.http.get('/api/v1/auth/me', { token });
    const counted = countQueries(b);
    const hits = () => cache.counters.hits.l1 + cache.counters.hits.l2;
    const before = { hits: hits() };
    for (let i = 0; i < 20; i++) expect((await b.http.get('/api/v1/auth/me', { token })).status).toBe(200);
    counted.stop();
    expect(counted.count).toBe(0);
    expect(hits() - before.hits).toBeGreaterThanOrEqual(20);
  });
});
