import { CacheDiagnostics, CacheService } from '@app/cache';
import { PrismaService } from '@app/database';
import { randomUUID } from 'node:crypto';
import { RedisKeys } from '../apps/auth-service/src/common/redis-keys';
import { SESSION } from '../apps/auth-service/src/sessions/session-state.cache';
import { USER } from '../apps/auth-service/src/users/users.cache';
import { expectError, strongPassword, TokenResponse, uniqueEmail, UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { sidOf } from './support/jws';
import { waitUntil } from './support/wait-until';

const ADMIN = { email: uniqueEmail('admin'), password: strongPassword() };
const ADMIN_ENV = { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password };

const cacheOf = (i: Instance) => i.app.get(CacheService);
const diagnosticsOf = (i: Instance) => i.app.get(CacheDiagnostics);
const userKey = (i: Instance, id: string) => i.app.get(RedisKeys).user(id);
const sessionKey = (i: Instance, userId: string, sid: string) => i.app.get(RedisKeys).session(userId, sid);

/** Which tiers hold the user's entry and its session's on `i`: what the waits below poll. */
async function tiersHolding(i: Instance, userId: string, sid: string) {
  const user = await diagnosticsOf(i).peek(USER, userKey(i, userId));
  const session = await diagnosticsOf(i).peek(SESSION, sessionKey(i, userId, sid));
  return { user: { l1: user.l1, l2: user.l2 }, session: { l1: session.l1, l2: session.l2 } };
}

/** The samples of the metrics whose names start with `prefix`, from `i`'s /metrics. */
async function metricLines(i: Instance, prefix: string): Promise<string> {
  const { text } = await i.http.get('/metrics');
  return text
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .join('\n');
}

/**
 * The admin cache routes of API.md, on two instances sharing PostgreSQL and Redis: roles (401, 403),
 * the first admin from ADMIN_EMAIL/ADMIN_PASSWORD, and each route's effect on the cache.
 */
describe('admin: roles, first admin and the cache routes', () => {
  let a: Instance;
  let b: Instance;
  let admin: TokenResponse;

  beforeAll(async () => {
    // Two instances starting together both ensure the first admin: one account, one role.
    [a, b] = await Promise.all([startInstance(ADMIN_ENV), startInstance(ADMIN_ENV)]);
    admin = await UserFactory.login(a.http, ADMIN);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  const as = (token: string) => ({ token });
  const get = (i: Instance, path: string, token?: string) =>
    i.http.get(`/api/v1/admin/cache${path}`, token ? as(token) : {});
  const post = (i: Instance, path: string, body: unknown = {}, token = admin.accessToken) =>
    i.http.post(`/api/v1/admin/cache${path}`, body, as(token));

  describe('first admin', () => {
    it('is created once, with the admin role and a working password, by concurrent starts', async () => {
      const rows = await a.app.get(PrismaService).user.findMany({ where: { email: ADMIN.email } });
      expect(rows).toHaveLength(1);
      expect(rows[0]?.roles).toEqual(expect.arrayContaining(['admin']));
      expect(rows[0]?.passwordHash).toMatch(/^\$argon2id\$/);
      expect(admin.user.roles).toContain('admin');
    });

    it('a start with ADMIN_EMAIL of an account whose email is not verified does not promote it', async () => {
      // Someone registers the address before the operator sets ADMIN_EMAIL: registration is open.
      const squatter = await UserFactory.register(a.http, { email: uniqueEmail('admin') });
      const c = await startInstance({ ADMIN_EMAIL: squatter.email, ADMIN_PASSWORD: strongPassword() });
      await c.close();
      // Neither their live session nor a new login with their own password is an admin's.
      expectError(await get(a, '/stats', squatter.tokens.accessToken), 403, 'forbidden');
      expectError(await get(b, '/stats', squatter.tokens.accessToken), 403, 'forbidden');
      const login = await UserFactory.login(a.http, squatter);
      expect(login.user.roles).not.toContain('admin');
      expectError(await get(a, '/stats', login.accessToken), 403, 'forbidden');
      const row = await a.app.get(PrismaService).user.findUniqueOrThrow({ where: { email: squatter.email } });
      expect(row.roles).toEqual(['user']);
    });

    it('a start with ADMIN_EMAIL of an existing account with a verified email promotes it at once (password unchanged), idempotently', async () => {
      const user = await UserFactory.register(a.http);
      expectError(await get(a, '/stats', user.tokens.accessToken), 403, 'forbidden');
      // Verified by its owner (the mailbox's link); set here directly, the route is tested elsewhere.
      await a.app
        .get(PrismaService)
        .user.update({ where: { email: user.email }, data: { emailVerified: true } });
      const env = { ADMIN_EMAIL: user.email, ADMIN_PASSWORD: strongPassword() };
      for (let i = 0; i < 2; i++) {
        const c = await startInstance(env);
        await c.close();
      }
      // Roles are read from the (write-through) cached user: the same access token now passes.
      expect((await get(b, '/stats', user.tokens.accessToken)).status).toBe(200);
      const row = await a.app.get(PrismaService).user.findUniqueOrThrow({ where: { email: user.email } });
      expect(row.roles.filter((r) => r === 'admin')).toHaveLength(1);
      expect((await UserFactory.login(a.http, user)).user.roles).toContain('admin');
    });
  });

  describe('access', () => {
    // Three elements each: jest would take a missing third argument for a `done` callback.
    const routes: [string, string, unknown][] = [
      ['GET', '/stats', undefined],
      ['GET', '/health', undefined],
      ['GET', `/users/${randomUUID()}`, undefined],
      ['DELETE', `/users/${randomUUID()}`, undefined],
      ['POST', `/users/${randomUUID()}/validate`, undefined],
      ['POST', `/users/${randomUUID()}/sync`, undefined],
      ['POST', '/bulk-sync', { userIds: [] }],
      ['POST', '/warm', undefined],
      ['POST', '/invalidate', { tag: 'user:x' }],
    ];

    it.each(routes)('%s %s: 401 anonymous, 403 forbidden for a non-admin', async (method, path, body) => {
      const user = await UserFactory.register(a.http);
      const call = (token?: string) =>
        a.http.request(method, `/api/v1/admin/cache${path}`, body, token ? { token } : {});
      expectError(await call(), 401, 'invalid_token');
      expectError(await call(user.tokens.accessToken), 403, 'forbidden');
    });
  });

  it('GET /stats reports both tiers, the hit rate and the circuit', async () => {
    const res = await get(a, '/stats', admin.accessToken);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      enabled: true,
      l1: { entries: expect.any(Number), hits: expect.any(Number), misses: expect.any(Number) },
      l2: {
        connected: true,
        keys: expect.any(Number),
        memoryBytes: expect.any(Number),
        hits: expect.any(Number),
        misses: expect.any(Number),
      },
      hitRate: expect.any(Number),
      errors: expect.any(Number),
      circuit: 'closed',
    });
    expect(res.body.l2.hits).toBeGreaterThan(0);
  });

  it('GET /health checks hit rate, error rate, latency and memory against the thresholds', async () => {
    const res = await get(a, '/health', admin.accessToken);
    expect(res.status).toBe(200);
    const check = { value: expect.anything(), status: expect.stringMatching(/^(ok|warning|critical)$/) };
    for (const c of Object.values(res.body.checks as Record<string, { value: unknown }>)) {
      if (c.value === null) c.value = 'n/a'; // null: nothing measured yet
    }
    expect(res.body).toEqual({
      status: expect.stringMatching(/^(healthy|degraded|critical)$/),
      checks: { hitRate: check, errorRate: check, latencyMs: check, memoryUsage: check },
      thresholds: {
        hitRate: { warning: 80, critical: 60 },
        errorRate: { warning: 1, critical: 5 },
        latencyMs: { warning: 10, critical: 50 },
        memoryUsage: { warning: 80, critical: 95 },
      },
    });
    expect(res.body.checks.latencyMs.value).toEqual(expect.any(Number));
    // Each status follows its value and thresholds (a busy machine's Redis timeouts are errors too).
    const { errorRate } = res.body.checks as { errorRate: { value: number | string; status: string } };
    const rate = errorRate.value === 'n/a' ? 0 : Number(errorRate.value);
    expect(errorRate.status).toBe(rate >= 5 ? 'critical' : rate >= 1 ? 'warning' : 'ok');
  });

  it('thresholds are configurable: a latency threshold of 0 ms makes the cache critical', async () => {
    const c = await startInstance({
      ...ADMIN_ENV,
      CACHE_HEALTH_LATENCY_WARNING_MS: '0',
      CACHE_HEALTH_LATENCY_CRITICAL_MS: '0',
    });
    try {
      const token = (await UserFactory.login(c.http, ADMIN)).accessToken;
      const res = await get(c, '/health', token);
      expect(res.body.status).toBe('critical');
      expect(res.body.checks.latencyMs.status).toBe('critical');
      expect(res.body.thresholds.latencyMs).toEqual({ warning: 0, critical: 0 });
    } finally {
      await c.close();
    }
  });

  it('GET /users/:id says whether the user is cached, with the cached PublicUser', async () => {
    const user = await UserFactory.register(a.http);
    const id = user.tokens.user.id;
    expect((await b.http.get('/api/v1/auth/me', as(user.tokens.accessToken))).status).toBe(200);
    const res = await get(b, `/users/${id}`, admin.accessToken);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ cached: true, data: expect.objectContaining({ id, email: user.email }) });
    expect(JSON.stringify(res.body)).not.toMatch(/password/i);
    const unknown = await get(b, `/users/${randomUUID()}`, admin.accessToken);
    expect(unknown.body).toEqual({ cached: false });
  });

  it('DELETE /users/:id evicts every entry of the user from Redis and from both instances’ L1', async () => {
    const user = await UserFactory.register(a.http);
    const id = user.tokens.user.id;
    const sid = sidOf(user.tokens.accessToken);
    for (const i of [a, b])
      expect((await i.http.get('/api/v1/auth/me', as(user.tokens.accessToken))).status).toBe(200);
    expect((await diagnosticsOf(a).peek(USER, userKey(a, id))).l2).toBe(true);

    const res = await a.http.delete(`/api/v1/admin/cache/users/${id}`, as(admin.accessToken));
    expect(res.status).toBe(204);

    for (const i of [a, b]) {
      await waitUntil(() => tiersHolding(i, id, sid), {
        what: 'the user and its session evicted from both tiers',
        until: ({ user, session }) =>
          user.l1 === false && user.l2 === false && session.l1 === false && session.l2 === false,
      });
    }
    expect((await get(b, `/users/${id}`, admin.accessToken)).body).toEqual({ cached: false });
    // The next request loads them again.
    expect((await b.http.get('/api/v1/auth/me', as(user.tokens.accessToken))).status).toBe(200);
    expect((await diagnosticsOf(a).peek(USER, userKey(a, id))).l2).toBe(true);
  });

  it('POST /users/:id/validate finds a drift planted in Redis, repairs it, and then finds none', async () => {
    const user = await UserFactory.register(a.http, { name: 'Ada' });
    const id = user.tokens.user.id;
    expect((await a.http.get('/api/v1/auth/me', as(user.tokens.accessToken))).status).toBe(200);
    const cached = (await diagnosticsOf(a).peek(USER, userKey(a, id))).value!;
    // The drift: Redis says another name and an extra role (as a lost invalidation could leave it).
    await cacheOf(b).set(USER, userKey(b, id), { ...cached, name: 'Drifted', roles: ['user', 'admin'] });
    expect((await b.http.get('/api/v1/auth/me', as(user.tokens.accessToken))).body.name).toBe('Drifted');

    const res = await post(b, `/users/${id}/validate`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ consistent: false, fixed: true, differences: ['name', 'roles'] });
    const repaired = await diagnosticsOf(a).peek(USER, userKey(a, id));
    expect(repaired).toEqual(
      expect.objectContaining({ l2: true, value: expect.objectContaining({ name: 'Ada', roles: ['user'] }) }),
    );
    expect((await a.http.get('/api/v1/auth/me', as(user.tokens.accessToken))).body.name).toBe('Ada');

    expect((await post(a, `/users/${id}/validate`)).body).toEqual({
      consistent: true,
      fixed: false,
      differences: [],
    });
  });

  it('the background consistency sampler checks random users periodically (and counts them)', async () => {
    await Promise.all([UserFactory.register(a.http), UserFactory.register(a.http)]);
    const c = await startInstance({
      CACHE_CONSISTENCY_SAMPLE_INTERVAL_MS: '100',
      CACHE_CONSISTENCY_SAMPLE_SIZE: '3',
    });
    try {
      await waitUntil(() => metricLines(c, 'auth_cache_consistency_checks_total'), {
        what: 'a sampled consistency check counted',
        until: (lines) =>
          /auth_cache_consistency_checks_total\{entity="user",result="(consistent|drift)"\} [1-9]/.test(
            lines,
          ),
      });
    } finally {
      await c.close();
    }
  });

  it('POST /users/:id/sync re-reads the row into the cache; 404 for an unknown user', async () => {
    const user = await UserFactory.register(a.http, { name: 'Before' });
    const id = user.tokens.user.id;
    // A change made behind the cache's back (e.g. by hand in SQL).
    await a.app.get(PrismaService).user.update({ where: { id }, data: { name: 'After' } });
    expect((await a.http.get('/api/v1/auth/me', as(user.tokens.accessToken))).body.name).toBe('Before');
    const res = await post(a, `/users/${id}/sync`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expect.objectContaining({ id, name: 'After', email: user.email }));
    expect((await b.http.get('/api/v1/auth/me', as(user.tokens.accessToken))).body.name).toBe('After');
    expectError(await post(a, `/users/${randomUUID()}/sync`), 404, 'not_found');
  });

  it('POST /bulk-sync counts successes and failures, and refuses more than 1000 ids', async () => {
    const users = await Promise.all([UserFactory.register(a.http), UserFactory.register(a.http)]);
    const ids = users.map((u) => u.tokens.user.id);
    await cacheOf(a).delete(ids.map((id) => userKey(a, id)));
    const res = await post(a, '/bulk-sync', { userIds: [...ids, randomUUID()] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ succeeded: 2, failed: 1, total: 3 });
    for (const id of ids) expect((await diagnosticsOf(b).peek(USER, userKey(b, id))).l2).toBe(true);
    expectError(
      await post(a, '/bulk-sync', { userIds: Array.from({ length: 1001 }, () => randomUUID()) }),
      400,
      'validation_failed',
    );
    expectError(await post(a, '/bulk-sync', { userIds: ['not-a-uuid'] }), 400, 'validation_failed');
  });

  it('POST /warm answers 202 and fills the cache with recently active sessions and their users', async () => {
    const user = await UserFactory.register(a.http);
    const id = user.tokens.user.id;
    const sid = sidOf(user.tokens.accessToken);
    await cacheOf(a).delete([userKey(a, id), sessionKey(a, id, sid)]);
    expect((await diagnosticsOf(a).peek(USER, userKey(a, id))).l2).toBe(false);

    const res = await post(b, '/warm');
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ started: true });
    await waitUntil(() => tiersHolding(a, id, sid), {
      what: 'the user and its session warmed into Redis',
      until: ({ user, session }) => user.l2 === true && session.l2 === true,
      // Generous: the run's shared database holds every suite's sessions, all warmed before users.
      timeoutMs: 75_000,
    });
    // The entries are there before the run ends (OAuth links come last): wait for its end too.
    // 'incomplete': Redis timed out on some of the shared database's other entries (a busy machine).
    const completed = /auth_cache_warm_runs_total\{trigger="admin",result="(completed|incomplete)"\} [1-9]/;
    const metrics = await waitUntil(() => metricLines(b, 'auth_cache_warm'), {
      what: 'the warm run completed',
      until: (lines) => completed.test(lines),
      timeoutMs: 15_000,
    });
    expect(metrics).toMatch(/auth_cache_warmed_entries_total\{entity="session"\} [1-9]/);
  }, 90_000);

  it('POST /invalidate removes every entry with the tag', async () => {
    const user = await UserFactory.register(a.http);
    const id = user.tokens.user.id;
    expect((await diagnosticsOf(a).peek(USER, userKey(a, id))).l2).toBe(true);
    const res = await post(a, '/invalidate', { tag: `user:${id}` });
    expect(res.status).toBe(200);
    expect(res.body.invalidated).toBeGreaterThanOrEqual(1);
    expect((await diagnosticsOf(b).peek(USER, userKey(b, id))).l2).toBe(false);
    expectError(await post(a, '/invalidate', { tag: 'bad tag!' }), 400, 'validation_failed');
  });
});
