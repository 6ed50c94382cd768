/**
 * The service itself on each Redis topology, three instances at a time, with real servers started
 * by the topology harness (test/support/topologies): what a team that runs several instances on a
 * Redis Cluster or on standalone Redis relies on.
 */
import { CacheService } from '@app/cache';
import { APP_CONFIG, AppConfig } from '../apps/auth-service/src/config/app-config';
import { UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { countQueries } from './support/query-count';
import { RedisClusterTopology, startRedisCluster } from './support/topologies';
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
      client
        .nodes('master')
        .map((node) => node.keys(`${a!.app.get<AppConfig>(APP_CONFIG).cache.keyPrefix}:*`)),
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
