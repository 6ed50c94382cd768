import { CacheService } from '@app/cache';
import { expectError, strongPassword, UserFactory } from './support/factories';
import { INTROSPECTION_CLIENT, Instance, startInstance } from './support/instance';
import { countQueries } from './support/query-count';
import { TcpProxy } from './support/tcp-proxy';
import { waitUntil } from './support/wait-until';

const basic = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:${INTROSPECTION_CLIENT.secret}`).toString('base64')}`;

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
    const user = await UserFactory.register(a.http);
    await b.http.get('/api/v1/auth/me', { token: user.tokens.accessToken }); // warm
    await breakRedis(proxy);

    const statuses: number[] = [];
    const track = <T extends { status: number }>(res: T) => (statuses.push(res.status), res);

    const fresh = track(
      await a.http.post('/api/v1/auth/register', {
        email: `faults.${Date.now()}@example.test`,
        password: strongPassword(),
      }),
    );
    expect(fresh.status).toBe(201);
    const login = track(
      await b.http.post('/api/v1/auth/login', { email: user.email, password: user.password }),
    );
    expect(login.status).toBe(200);
    const token = login.body.accessToken;
    expect(track(await b.http.get('/api/v1/auth/me', { token })).body.email).toBe(user.email);
    expect(track(await a.http.patch('/api/v1/users/me', { name: 'During outage' }, { token })).status).toBe(
      200,
    );
    expect(track(await b.http.get('/api/v1/auth/me', { token })).body.name).toBe('During outage');
    expect(track(await a.http.patch('/api/v1/users/me/profile', { bio: 'outage' }, { token })).status).toBe(
      200,
    );
    expect(track(await b.http.get('/api/v1/users/me/profile', { token })).body.bio).toBe('outage');
    expect(track(await b.http.get('/api/v1/auth/sessions', { token })).status).toBe(200);
    const refreshed = track(
      await a.http.post('/api/v1/auth/refresh', { refreshToken: login.body.refreshToken }),
    );
    expect(refreshed.status).toBe(200);
    const intro = track(
      await b.http.post('/api/v1/auth/introspect', { token }, { headers: { authorization: basic } }),
    );
    expect(intro.body.active).toBe(true);
    expect(track(await a.http.post('/api/v1/auth/password/forgot', { email: user.email })).status).toBe(202);
    const ready = track(await a.http.get('/health/ready'));
    expect(ready.status).toBe(200);
    expect(ready.body.details.redis.status).toBe('down');

    // Revocation stays strict with no cache to help.
    expect(track(await a.http.post('/api/v1/auth/logout', undefined, { token })).status).toBe(204);
    expectError(track(await b.http.get('/api/v1/auth/me', { token })), 401, 'invalid_token');
    expect(
      track(await b.http.post('/api/v1/auth/introspect', { token }, { headers: { authorization: basic } }))
        .body,
    ).toEqual({ active: false });

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
