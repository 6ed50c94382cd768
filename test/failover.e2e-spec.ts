/**
 * Three service instances while Redis loses its master, with real servers started by the topology
 * harness (test/support/topologies): Sentinel (1 master, 1 replica, 3 sentinels; a forced failover,
 * then the master killed) and a Redis Cluster (3 masters with a replica each; a master killed, then
 * the whole cluster). Throughout: no 5xx, no logged-out session accepted again by any instance
 * (the revocation log in PostgreSQL covers the Redis writes a failover loses), and the cache back
 * by itself once there is a master again.
 */
import { CacheService } from '@app/cache';
import { UserFactory } from './support/factories';
import {
  acceptedAnywhere,
  cachingResumed,
  logOut,
  me,
  redisHits,
  sessionsSeenEverywhere,
  startTraffic,
} from './support/failover';
import { Instance, startInstance } from './support/instance';
import { countQueries } from './support/query-count';
import { everyRouteWithRedisBroken } from './support/route-sweep';
import {
  RedisClusterTopology,
  RedisNode,
  RedisSentinelTopology,
  SENTINEL_DOWN_AFTER_MS,
  startRedisCluster,
  startRedisSentinel,
} from './support/topologies';
import { waitUntil } from './support/wait-until';

jest.setTimeout(90_000);

const PASSWORD = 'failover-test-password-0123456789';
const INSTANCES = 3;
/** Sessions logged out just before a failover, and during it. */
const BEFORE = 3;
const DURING = 6;
/** The pause between two logouts during a failover, so they spread over it. */
const LOGOUT_GAP_MS = 150;

/**
 * INSTANCES instances: one first (it creates the service's secrets in a fresh database), then the
 * others together.
 */
async function startInstances(env: Record<string, string | undefined>): Promise<Instance[]> {
  const first = await startInstance(env);
  return [first, ...(await Promise.all(Array.from({ length: INSTANCES - 1 }, () => startInstance(env))))];
}

describe('Sentinel (1 master, 1 replica, 3 sentinels; TLS, ACL user), REDIS_MODE=sentinel alone, three instances', () => {
  let sentinel: RedisSentinelTopology;
  let env: Record<string, string | undefined>;
  const instances: Instance[] = [];

  beforeAll(async () => {
    const auth = { username: 'auth-service', password: PASSWORD };
    sentinel = await startRedisSentinel({ tls: true, auth });
    env = {
      REDIS_URL: undefined,
      REDIS_MODE: 'sentinel',
      REDIS_SENTINELS: sentinel.sentinelAddresses.map((s) => `${s.host}:${s.port}`).join(','),
      REDIS_SENTINEL_NAME: sentinel.name,
      REDIS_USERNAME: auth.username,
      REDIS_PASSWORD: auth.password,
      REDIS_TLS: 'true',
      REDIS_TLS_CA: sentinel.security.tls!.ca.toString('utf8'), // started with tls: true
    };
    instances.push(...(await startInstances(env)));
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

  it('SENTINEL FAILOVER under traffic: no 5xx; sessions logged out before and during it stay refused everywhere after the old master resynchronised', async () => {
    const user = await UserFactory.register(instances[0]!.http);
    const sessions = await sessionsSeenEverywhere(instances, user, BEFORE + DURING);
    const traffic = startTraffic(instances, user.tokens.accessToken);
    const before = await sentinel.currentMaster();
    try {
      await logOut(instances, sessions.slice(0, BEFORE));
      const started = Date.now();
      const failover = sentinel.forceFailover();
      // Some of these "revoked" writes land on the old master, which loses them when it resyncs.
      await logOut(instances, sessions.slice(BEFORE), LOGOUT_GAP_MS);
      const after = await failover;
      const promotedAfter = Date.now() - started;
      await sentinel.waitForReplicaOf(before, after);
      console.info(
        `Sentinel forced failover: new master after ${promotedAfter} ms, ` +
          `the old one its replica after ${Date.now() - started} ms`,
      );
      expect(await acceptedAnywhere(instances, sessions)).toEqual([]);
      // An instance started now knows them from the log alone, whatever Redis still says.
      const late = await startInstance(env);
      instances.push(late);
      expect(await acceptedAnywhere([late], sessions)).toEqual([]);
    } finally {
      const { requests, unexpected } = await traffic.stop();
      console.info(
        `Sentinel forced failover: ${requests} requests under traffic, ${unexpected.length} unexpected`,
      );
      expect(unexpected).toEqual([]);
    }
    await cachingResumed(instances, user.tokens.accessToken);
  });

  it('the master killed under traffic: no 5xx, logged-out sessions stay refused, caching resumes; the window is measured', async () => {
    const user = await UserFactory.register(instances[0]!.http);
    const sessions = await sessionsSeenEverywhere(instances, user, BEFORE + DURING);
    const traffic = startTraffic(instances, user.tokens.accessToken);
    const hits = redisHits(instances);
    let window: number | undefined;
    try {
      await logOut(instances, sessions.slice(0, BEFORE));
      const killing = sentinel.killMaster();
      // Logged out while there is no master: the cache cannot be told, the log can.
      await logOut(instances, sessions.slice(BEFORE), LOGOUT_GAP_MS);
      const { killedAt } = await killing;
      await cachingResumed(instances, user.tokens.accessToken);
      // No sentinel calls the master down sooner: a hit before that is a reply the dead master sent
      // before the signal, read just after it.
      const firstHit = hits.firstAfter(killedAt + SENTINEL_DOWN_AFTER_MS);
      expect(firstHit).toBeDefined();
      window = firstHit! - killedAt;
      expect(await acceptedAnywhere(instances, sessions)).toEqual([]);
    } finally {
      hits.stop();
      const { requests, unexpected } = await traffic.stop();
      console.info(
        `Sentinel master killed: ${requests} requests under traffic, ${unexpected.length} unexpected; ` +
          `${window} ms from its death to the first cache hit on the new master`,
      );
      expect(unexpected).toEqual([]);
    }
    // Every instance's circuit closes again once Redis answers (a reply that timed out during the
    // failover may have opened one just after the traffic stopped: it closes at its next probe).
    await waitUntil(
      async () => {
        for (const instance of instances) await me(instance, user.tokens.accessToken);
        return instances.map((i) => i.app.get(CacheService).breaker.state);
      },
      {
        what: "every instance's Redis circuit closed",
        until: (states) => states.every((state) => state === 'closed'),
        timeoutMs: 15_000,
        intervalMs: 250,
      },
    );
  });
});

describe('Redis Cluster (3 masters, a replica each; password), REDIS_MODE=cluster alone, three instances', () => {
  let cluster: RedisClusterTopology;
  const instances: Instance[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster({ auth: { password: PASSWORD } });
    instances.push(
      ...(await startInstances({
        REDIS_URL: undefined,
        REDIS_MODE: 'cluster',
        REDIS_NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(','),
        REDIS_PASSWORD: PASSWORD,
      })),
    );
  });
  afterAll(async () => {
    await Promise.all(instances.map((i) => i.close()));
    await cluster?.stop();
  });

  /** The master that holds a user's entries (they share the hash tag `{user:<id>}`). */
  async function masterOf(userId: string): Promise<RedisNode> {
    const client = cluster.client();
    const masters = await waitUntil(() => client.nodes('master'), {
      what: "the test's cluster client knowing the masters",
      until: (nodes) => nodes.length === 3,
      timeoutMs: 10_000,
    });
    const holding = await Promise.all(
      masters.map(async (node) => (await node.keys(`*${userId}*`)).length > 0),
    );
    const port = masters[holding.indexOf(true)]?.options.port;
    const master = cluster.nodes.find((n) => n.port === port);
    if (!master) throw new Error(`no master holds the entries of user ${userId}`);
    return master;
  }

  it("the master holding a user's entries killed under traffic: no 5xx, logged-out sessions stay refused, caching resumes once its replica is promoted", async () => {
    const user = await UserFactory.register(instances[0]!.http);
    const sessions = await sessionsSeenEverywhere(instances, user, BEFORE + DURING);
    const master = await masterOf(user.tokens.user.id);
    const traffic = startTraffic(instances, user.tokens.accessToken);
    let resumedAfter: number | undefined;
    try {
      await logOut(instances, sessions.slice(0, BEFORE));
      await cluster.waitForReplicasInSync();
      const killing = cluster.killMaster(master);
      await logOut(instances, sessions.slice(BEFORE), LOGOUT_GAP_MS);
      const { killedAt } = await killing;
      await cachingResumed(instances, user.tokens.accessToken);
      resumedAfter = Date.now() - killedAt;
      expect(await acceptedAnywhere(instances, sessions)).toEqual([]);
    } finally {
      const { requests, unexpected } = await traffic.stop();
      console.info(
        `Cluster master killed: ${requests} requests under traffic, ${unexpected.length} unexpected; ` +
          `/auth/me from the cache again on every instance ${resumedAfter} ms after its death`,
      );
      expect(unexpected).toEqual([]);
    }
  });

  it('the whole cluster down: every route keeps answering from PostgreSQL, no 5xx', async () => {
    const [a, b] = instances;
    const statuses = await everyRouteWithRedisBroken(a!, b!, () =>
      Promise.all(cluster.nodes.map((node) => node.process.stop('SIGKILL'))),
    );
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
  });
});
