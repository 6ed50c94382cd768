import { CacheService } from '@app/cache';
import { PrismaService } from '@app/database';
import Redis from 'ioredis';
import { RedisKeys } from '../apps/auth-service/src/common/redis-keys';
import { APP_CONFIG, AppConfig } from '../apps/auth-service/src/config/app-config';
import { expectError, SessionFactory, strongPassword, TokenResponse, UserFactory } from './support/factories';
import { INTROSPECTION_CLIENT, Instance, startInstance } from './support/instance';
import { sidOf } from './support/jws';
import { countQueries } from './support/query-count';

const basic = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:${INTROSPECTION_CLIENT.secret}`).toString('base64')}`;
const introspect = (i: Instance, token: string) =>
  i.http.post('/api/v1/auth/introspect', { token }, { headers: { authorization: basic } });
const queriesOf = (i: Instance) => i.app.get(PrismaService).queries;

/**
 * The cache layer seen from outside: hot paths at zero queries, one load per stampede, writes
 * visible on every instance at once, revocation strict across instances. The cross-instance
 * suites run twice: with the cache, and with CACHE_ENABLED=false (the pure database path).
 */
describe('cache: hot paths (cache on)', () => {
  let a: Instance;
  let b: Instance;
  beforeAll(async () => {
    [a, b] = await Promise.all([startInstance(), startInstance()]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('at steady state, 200 /auth/me and 200 introspections make 0 database queries', async () => {
    const user = await UserFactory.register(a.http);
    const token = user.tokens.accessToken;
    // Warm-up: the first reads fill the cache.
    expect((await b.http.get('/api/v1/auth/me', { token })).status).toBe(200);
    expect((await introspect(b, token)).body.active).toBe(true);

    const redisCalls: string[] = [];
    // PUBLISH is the invalidation channel's heartbeat and acknowledgements, not the requests' reads.
    const onCall = ({ operation }: { operation: string }) => {
      if (operation !== 'publish') redisCalls.push(operation);
    };
    const events = b.app.get(CacheService).events;
    events.on('latency', onCall);
    try {
      const counted = countQueries(b);
      for (let i = 0; i < 200; i++) {
        const me = await b.http.get('/api/v1/auth/me', { token });
        expect(me.status).toBe(200);
      }
      const afterMe = { queries: counted.count, redis: redisCalls.length };
      for (let i = 0; i < 200; i++) {
        const res = await introspect(b, token);
        expect(res.body.active).toBe(true);
      }
      counted.stop();
      expect(afterMe.queries).toBe(0);
      expect(counted.count - afterMe.queries).toBe(0);
      // At most one Redis round trip per request, and only reads: none while strict L1 is trusted
      // (acknowledged invalidation); when trust lapses on a busy machine, an MGET (session + user) or
      // a GET of the one entry L1 no longer holds.
      expect(afterMe.redis).toBeLessThanOrEqual(200);
      expect(redisCalls.length - afterMe.redis).toBeLessThanOrEqual(200);
      expect(redisCalls.filter((operation) => operation !== 'mget' && operation !== 'get')).toEqual([]);
      console.log(
        `steady state: /auth/me ${afterMe.queries / 200} queries and ${afterMe.redis / 200} Redis round trips per request; ` +
          `introspection ${(counted.count - afterMe.queries) / 200} queries and ${(redisCalls.length - afterMe.redis) / 200} round trips`,
      );
    } finally {
      events.off('latency', onCall);
    }
  });

  it('a stampede of 500 concurrent reads of a just-evicted user costs one user query per instance', async () => {
    const user = await UserFactory.register(a.http);
    const token = user.tokens.accessToken;
    await a.http.get('/api/v1/auth/me', { token });
    const cache = a.app.get(CacheService);
    await cache.delete([a.app.get(RedisKeys).user(user.tokens.user.id)]);

    const userQueries = { a: 0, b: 0 };
    const onA = (e: { table: string }) => e.table === 'users' && userQueries.a++;
    const onB = (e: { table: string }) => e.table === 'users' && userQueries.b++;
    queriesOf(a).on('query', onA);
    queriesOf(b).on('query', onB);
    try {
      const results = await Promise.all(
        Array.from({ length: 500 }, (_, i) => (i % 2 ? b : a).http.get('/api/v1/auth/me', { token })),
      );
      expect(results.every((r) => r.status === 200 && r.body.id === user.tokens.user.id)).toBe(true);
    } finally {
      queriesOf(a).off('query', onA);
      queriesOf(b).off('query', onB);
    }
    console.log(
      `stampede: 500 concurrent /auth/me after eviction -> user queries A=${userQueries.a}, B=${userQueries.b}`,
    );
    expect(userQueries.a).toBeLessThanOrEqual(1);
    expect(userQueries.b).toBeLessThanOrEqual(1);
    expect(userQueries.a + userQueries.b).toBeGreaterThanOrEqual(1);
  });
  it('exposes the cache and database counters on /metrics', async () => {
    const user = await UserFactory.register(a.http);
    for (let i = 0; i < 3; i++) await a.http.get('/api/v1/auth/me', { token: user.tokens.accessToken });
    const text = (await a.http.get('/metrics')).text;
    expect(text).toMatch(/auth_db_queries_total\{table="users",kind="insert"\} \d+/);
    expect(text).toMatch(/auth_cache_lookups_total\{tier="l[12]",entity="session",result="hit"\} [1-9]/);
    expect(text).toMatch(/auth_cache_redis_duration_seconds_count\{operation="(mget|publish)"\} [1-9]/);
    expect(text).toMatch(/auth_cache_circuit_state 0/);
  });
});

describe.each([
  ['cache on', 'true'],
  ['CACHE_ENABLED=false', 'false'],
])('cache: consistency across two instances (%s)', (_label, enabled) => {
  let a: Instance;
  let b: Instance;
  let user: { email: string; password: string; tokens: TokenResponse };

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startInstance({ CACHE_ENABLED: enabled }),
      startInstance({ CACHE_ENABLED: enabled }),
    ]);
    user = await UserFactory.register(a.http);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('PATCH users/me on A, then /auth/me on B shows the change, 100 times out of 100', async () => {
    const token = user.tokens.accessToken;
    for (let i = 0; i < 100; i++) {
      const name = `name ${i}`;
      expect((await a.http.patch('/api/v1/users/me', { name }, { token })).status).toBe(200);
      const me = await b.http.get('/api/v1/auth/me', { token });
      expect(me.body.name).toBe(name);
    }
  });

  it('PATCH the profile on A, then GET it on B shows the change, 100 times out of 100', async () => {
    const token = user.tokens.accessToken;
    for (let i = 0; i < 100; i++) {
      const bio = `bio ${i}`;
      expect((await a.http.patch('/api/v1/users/me/profile', { bio }, { token })).status).toBe(200);
      expect((await b.http.get('/api/v1/users/me/profile', { token })).body.bio).toBe(bio);
    }
  });

  const TRIALS = 200;

  it(`logout on A: the old access token is refused on B (bearer and introspection), ${TRIALS} of ${TRIALS}`, async () => {
    for (let i = 0; i < TRIALS; i++) {
      const session = await SessionFactory.create(a, user.tokens.user);
      // B has the session warm in its caches before the revocation.
      expect((await b.http.get('/api/v1/auth/me', { token: session.accessToken })).status).toBe(200);
      expect(
        (await a.http.post('/api/v1/auth/logout', undefined, { token: session.accessToken })).status,
      ).toBe(204);
      expectError(await b.http.get('/api/v1/auth/me', { token: session.accessToken }), 401, 'invalid_token');
      expect((await introspect(b, session.accessToken)).body).toEqual({ active: false });
    }
  });

  it(`session delete on A: refused on B, ${TRIALS} of ${TRIALS}`, async () => {
    for (let i = 0; i < TRIALS; i++) {
      const session = await SessionFactory.create(a, user.tokens.user);
      expect((await b.http.get('/api/v1/auth/me', { token: session.accessToken })).status).toBe(200);
      const sid = sidOf(session.accessToken);
      expect(
        (await a.http.delete(`/api/v1/auth/sessions/${sid}`, { token: user.tokens.accessToken })).status,
      ).toBe(204);
      expectError(await b.http.get('/api/v1/auth/me', { token: session.accessToken }), 401, 'invalid_token');
      expect((await introspect(b, session.accessToken)).body).toEqual({ active: false });
    }
  });

  it(`logout-all on A: every session refused on B, ${TRIALS} sessions`, async () => {
    const other = await UserFactory.register(a.http);
    const sessions: TokenResponse[] = [];
    for (let i = 0; i < TRIALS; i++) sessions.push(await SessionFactory.create(a, other.tokens.user));
    for (const s of sessions.slice(0, 20))
      expect((await b.http.get('/api/v1/auth/me', { token: s.accessToken })).status).toBe(200);
    expect(
      (await a.http.post('/api/v1/auth/logout-all', undefined, { token: other.tokens.accessToken })).status,
    ).toBe(204);
    for (const s of sessions) {
      expectError(await b.http.get('/api/v1/auth/me', { token: s.accessToken }), 401, 'invalid_token');
      expect((await introspect(b, s.accessToken)).body).toEqual({ active: false });
    }
  });

  it(`password change on A: every other session refused on B, ${TRIALS} sessions`, async () => {
    const other = await UserFactory.register(a.http);
    const sessions: TokenResponse[] = [];
    for (let i = 0; i < TRIALS; i++) sessions.push(await SessionFactory.create(a, other.tokens.user));
    for (const s of sessions.slice(0, 20))
      expect((await b.http.get('/api/v1/auth/me', { token: s.accessToken })).status).toBe(200);
    const change = await a.http.post(
      '/api/v1/auth/password/change',
      { currentPassword: other.password, newPassword: strongPassword() },
      { token: other.tokens.accessToken },
    );
    expect(change.status).toBe(204);
    for (const s of sessions) {
      expectError(await b.http.get('/api/v1/auth/me', { token: s.accessToken }), 401, 'invalid_token');
      expect((await introspect(b, s.accessToken)).body).toEqual({ active: false });
    }
    expect((await b.http.get('/api/v1/auth/me', { token: other.tokens.accessToken })).status).toBe(200);
  });
});

describe('cache: what Redis holds after a full flow', () => {
  let a: Instance;
  beforeAll(async () => (a = await startInstance()));
  afterAll(() => a?.close());

  it('no password hash, refresh token, token hash or raw email in any key or value', async () => {
    const email = `Scan.${Date.now()}@Example.test`;
    const user = await UserFactory.register(a.http, { email });
    const token = user.tokens.accessToken;
    await a.http.get('/api/v1/auth/me', { token });
    await a.http.patch('/api/v1/users/me/profile', { bio: 'hello' }, { token });
    await a.http.get('/api/v1/users/me/profile', { token });
    const refreshed = await a.http.post('/api/v1/auth/refresh', { refreshToken: user.tokens.refreshToken });
    expect(refreshed.status).toBe(200);
    await a.http.post('/api/v1/auth/password/forgot', { email });
    await a.http.get('/api/v1/auth/sessions', { token: refreshed.body.accessToken });
    await introspect(a, refreshed.body.accessToken);

    const redis = new Redis(process.env.E2E_REDIS_URL!);
    try {
      // Every key of the app: the cache's, the library's own and the rate limits'.
      const prefix = a.app.get<AppConfig>(APP_CONFIG).cache.keyPrefix;
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      expect(keys.length).toBeGreaterThan(3);
      const { createHash } = await import('node:crypto');
      const sha = (s: string) => createHash('sha256').update(s).digest('hex');
      const forbidden = [
        '$argon2',
        'passwordHash',
        'password_hash',
        user.password,
        user.tokens.refreshToken,
        refreshed.body.refreshToken,
        sha(user.tokens.refreshToken),
        sha(refreshed.body.refreshToken),
        email.toLowerCase(),
        email,
        // A plain hash of the email would let whoever reads Redis confirm a guess.
        sha(email.toLowerCase()),
      ];
      for (const key of keys) {
        const type = await redis.type(key);
        const value =
          type === 'string' ? ((await redis.get(key)) ?? '') : (await redis.smembers(key)).join('\n');
        for (const secret of forbidden) {
          expect(`${key} => ${value}`).not.toContain(secret);
        }
      }
    } finally {
      redis.disconnect();
    }
  });
});
