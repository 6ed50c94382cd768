/**
 * The service itself on each Redis topology, three instances at a time, with real servers started
 * by the topology harness (test/support/topologies): what a team that runs several instances on a
 * Redis Cluster or on standalone Redis relies on.
 */
import { CacheService } from '@app/cache';
import { UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { countQueries } from './support/query-count';
import {
  RedisClusterTopology,
  RedisSentinelTopology,
  startRedisCluster,
  startRedisSentinel,
} from './support/topologies';
import { waitUntil } from './support/wait-until';

jest.setTimeout(120_000);

const PASSWORD = 'scale-out-test-password-0123456789';
/** How many logouts, spread over the instances, each checked on every instance right after its 204. */
const LOGOUTS = 50;

const me = (instance: Instance, token: string) => instance.http.get('/api/v1/auth/me', { token });

/** Every Redis error an instance's cache reports from now on (CROSSSLOT would be one). */
function redisErrors(instances: Instance[]): string[] {
  const errors: string[] = [];
  for (const instance of instances) {
    instance.app.get(CacheService).events.on('error', ({ error }) => errors.push(error.message));
  }
  return errors;
}

/**
 * LOGOUTS sessions, each logged in on one instance, used on all of them, and logged out on the
 * next; right after each 204 every instance is asked once more. Answers what was accepted after
 * its logout (instance index, logout number): nothing may be.
 */
async function acceptedAfterLogout(instances: Instance[]): Promise<string[]> {
  const [first] = instances;
  if (!first) throw new Error('no instance');
  const user = await UserFactory.register(first.http);
  const accepted: string[] = [];
  for (let i = 0; i < LOGOUTS; i++) {
    const loginOn = instances[i % instances.length]!;
    const logoutOn = instances[(i + 1) % instances.length]!;
    const { accessToken } = await UserFactory.login(loginOn.http, user);
    // Every instance has just accepted the session: whatever it caches about it is fresh.
    for (const instance of instances) expect((await me(instance, accessToken)).status).toBe(200);
    const logout = await logoutOn.http.post('/api/v1/auth/logout', undefined, { token: accessToken });
    expect(logout.status).toBe(204);
    const after = await Promise.all(instances.map((instance) => me(instance, accessToken)));
    after.forEach(
      (res, n) => res.status !== 401 && accepted.push(`logout ${i}: ${res.status} on instance ${n}`),
    );
  }
  return accepted;
}

describe('three instances on standalone Redis (two started together, a third later)', () => {
  const instances: Instance[] = [];

  beforeAll(async () => {
    instances.push(...(await Promise.all([startInstance(), startInstance()])));
  });
  afterAll(async () => {
    await Promise.all(instances.map((i) => i.close()));
  });

  it(`${LOGOUTS} logouts spread over them: not one logged-out token is accepted afterwards, on any instance`, async () => {
    // The third joins while the first two already exchange invalidations and heartbeats.
    await new Promise((resolve) => setTimeout(resolve, 300));
    instances.push(await startInstance());
    expect(await acceptedAfterLogout(instances)).toEqual([]);
  });
});

describe('the service on a Redis Cluster (3 masters + 3 replicas, password), REDIS_MODE=cluster and REDIS_NODES alone', () => {
  let cluster: RedisClusterTopology;
  let env: Record<string, string | undefined>;
  const instances: Instance[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster({ auth: { password: PASSWORD } });
    env = {
      REDIS_URL: undefined,
      REDIS_MODE: 'cluster',
      REDIS_NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(','),
      REDIS_PASSWORD: PASSWORD,
    };
    instances.push(...(await Promise.all([startInstance(env), startInstance(env)])));
  });
  afterAll(async () => {
    await Promise.all(instances.map((i) => i.close()));
    await cluster?.stop();
  });

  it('connects with the mode and its nodes alone: Redis reported up, and entries land on every master', async () => {
    const [a] = instances;
    const ready = await a!.http.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.info.redis).toEqual({ status: 'up', configured: true });
    for (let i = 0; i < 12; i++) {
      const user = await UserFactory.register(a!.http);
      expect((await me(a!, user.tokens.accessToken)).status).toBe(200);
    }
    const client = cluster.client();
    await waitUntil(() => client.nodes('master').length, {
      what: "the test's cluster client knowing the masters",
      until: (n) => n === 3,
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    const perMaster = await Promise.all(
      client.nodes('master').map((node) => node.keys(`e2e_${process.env.E2E_RUN_ID}:*`)),
    );
    expect(perMaster.map((keys) => keys.length > 0)).toEqual([true, true, true]);
  });

  it('answers /auth/me from the cache: 0 database statements per request at steady state, no Redis error', async () => {
    const errors = redisErrors(instances);
    const [a] = instances;
    const users = await Promise.all(Array.from({ length: 5 }, () => UserFactory.register(a!.http)));
    const tokens = users.map((u) => u.tokens.accessToken);
    for (const instance of instances) for (const token of tokens) await me(instance, token);
    const counters = instances.map((instance) => countQueries(instance));
    try {
      for (let round = 0; round < 20; round++) {
        for (const instance of instances) {
          const answers = await Promise.all(tokens.map((token) => me(instance, token)));
          expect(answers.map((r) => r.status)).toEqual(tokens.map(() => 200));
        }
      }
      expect(counters.map((c) => c.count)).toEqual(instances.map(() => 0));
    } finally {
      counters.forEach((c) => c.stop());
    }
    expect(errors.filter((e) => /CROSSSLOT|MOVED|ASK/.test(e))).toEqual([]);
  });

  it(`${LOGOUTS} logouts spread over three instances (the third started later): not one accepted afterwards`, async () => {
    const errors = redisErrors(instances);
    instances.push(await startInstance(env));
    expect(await acceptedAfterLogout(instances)).toEqual([]);
    expect(errors.filter((e) => /CROSSSLOT/.test(e))).toEqual([]);
  });
});

describe('the service on Sentinel (1 master, 1 replica, 3 sentinels; TLS and an ACL user), REDIS_MODE=sentinel alone', () => {
  let sentinel: RedisSentinelTopology;
  const instances: Instance[] = [];

  beforeAll(async () => {
    sentinel = await startRedisSentinel({
      tls: true,
      auth: { username: 'auth-service', password: PASSWORD },
    });
    const env = {
      REDIS_URL: undefined,
      REDIS_MODE: 'sentinel',
      REDIS_SENTINELS: sentinel.sentinelAddresses.map((s) => `${s.host}:${s.port}`).join(','),
      REDIS_SENTINEL_NAME: sentinel.name,
      REDIS_USERNAME: 'auth-service',
      REDIS_PASSWORD: PASSWORD,
      REDIS_TLS: 'true',
      REDIS_TLS_CA: sentinel.security.tls!.ca.toString('utf8'), // started with tls: true
    };
    instances.push(...(await Promise.all([startInstance(env), startInstance(env)])));
    instances.push(await startInstance(env));
  });
  afterAll(async () => {
    await Promise.all(instances.map((i) => i.close()));
    await sentinel?.stop();
  });

  it('connects over TLS with the ACL user: Redis up, /auth/me from the cache (0 database statements)', async () => {
    const [a] = instances;
    expect((await a!.http.get('/health/ready')).body.info.redis).toEqual({ status: 'up', configured: true });
    const user = await UserFactory.register(a!.http);
    for (const instance of instances) await me(instance, user.tokens.accessToken);
    const counters = instances.map((instance) => countQueries(instance));
    for (let i = 0; i < 10; i++)
      for (const instance of instances)
        expect((await me(instance, user.tokens.accessToken)).status).toBe(200);
    counters.forEach((c) => c.stop());
    expect(counters.map((c) => c.count)).toEqual([0, 0, 0]);
  });

  it('a forced failover under traffic: no 5xx, and sessions logged out just after it began stay refused everywhere', async () => {
    const [a] = instances;
    const user = await UserFactory.register(a!.http);
    const keep = user.tokens.accessToken;
    const doomed: string[] = [];
    for (let i = 0; i < 6; i++)
      doomed.push((await UserFactory.login(instances[i % 3]!.http, user)).accessToken);
    for (const token of [keep, ...doomed]) for (const instance of instances) await me(instance, token);

    // Traffic on every instance for the whole test.
    const statuses: number[] = [];
    let running = true;
    const traffic = (async () => {
      while (running) {
        const answers = await Promise.all(instances.map((instance) => me(instance, keep)));
        statuses.push(...answers.map((r) => r.status));
      }
    })();

    const accepted: string[] = [];
    try {
      const failover = sentinel.forceFailover();
      // Logged out right after the failover began: some of these writes land on the old master.
      for (const [i, token] of doomed.entries()) {
        const res = await instances[i % 3]!.http.post('/api/v1/auth/logout', undefined, { token });
        expect(res.status).toBe(204);
      }
      await failover;
      // The old master turns into a replica of the new one (a sentinel's INFO, every 10 s) and drops
      // what only it had: for 15 s, every logged-out token is asked of every instance.
      const until = Date.now() + 15_000;
      while (Date.now() < until) {
        for (const [i, token] of doomed.entries())
          for (const [n, instance] of instances.entries())
            if ((await me(instance, token)).status !== 401) accepted.push(`session ${i} on instance ${n}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } finally {
      running = false;
      await traffic;
    }
    expect(accepted).toEqual([]);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    // Caching resumes on the new master: /auth/me without database statements again.
    await waitUntil(
      async () => {
        for (const instance of instances) await me(instance, keep);
        const counters = instances.map((instance) => countQueries(instance));
        for (const instance of instances) await me(instance, keep);
        counters.forEach((c) => c.stop());
        return counters.reduce((sum, c) => sum + c.count, 0);
      },
      { what: 'cache hits on the new master', until: (n) => n === 0, timeoutMs: 20_000, intervalMs: 500 },
    );
  });
});
