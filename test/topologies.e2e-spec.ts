/**
 * Proves the topology harnesses the scale-out suites run on: each really is the topology it says
 * (roles, slots, replication), its failure helpers really fail it over, its security options are
 * enforced, and `stop()` leaves no process and no file behind.
 */
import { existsSync } from 'node:fs';
import Redis, { RedisOptions } from 'ioredis';
import {
  PostgresReplication,
  query,
  RedisClusterTopology,
  RedisNode,
  RedisSentinelTopology,
  ServerProcess,
  startPostgresReplication,
  startRedisCluster,
  startRedisSentinel,
} from './support/topologies';
import { onlyRow, present } from './support/present';
import { waitUntil } from './support/wait-until';

jest.setTimeout(60_000);

const PASSWORD = 'topology-test-password-0123456789';

/** A direct connection to one node, with the topology's TLS and credentials unless overridden. */
function connect(node: RedisNode, options: RedisOptions): Redis {
  return new Redis({
    host: '127.0.0.1',
    port: node.port,
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    ...options,
  });
}

/** 'accepted', or why the server refused: the first error (ioredis 6 meets NOAUTH at its HELLO). */
async function refusal(client: Redis, run: (c: Redis) => Promise<unknown>): Promise<string> {
  const errors: string[] = [];
  client.on('error', (error: Error) => errors.push(error.message));
  try {
    await client.connect();
    await run(client);
    return 'accepted';
  } catch (error) {
    return errors[0] ?? (error as Error).message;
  } finally {
    client.disconnect();
  }
}

/** A client finding a new master throws meanwhile: its calls are retried until one succeeds. */
const UNTIL_IT_STOPS_THROWING = { retryOnError: true, until: () => true, timeoutMs: 15_000, intervalMs: 100 };

function expectNothingLeft(processes: ServerProcess[], dir: string): void {
  expect(processes.filter((p) => p.running() || p.groupAlive()).map((p) => p.name)).toEqual([]);
  expect(existsSync(dir)).toBe(false);
}

describe('Redis Cluster harness: 3 masters + 3 replicas, password', () => {
  let cluster: RedisClusterTopology;
  const keys = Array.from({ length: 60 }, (_, i) => `topology:cluster:${i}`);

  beforeAll(async () => {
    cluster = await startRedisCluster({ auth: { password: PASSWORD } });
  });
  afterAll(() => cluster?.stop());

  it('comes up with all 16384 slots on 3 masters, each with its own replica', async () => {
    const state = await cluster.clusterNodes();
    const masters = state.filter((n) => n.flags.includes('master'));
    const replicas = state.filter((n) => n.flags.includes('slave'));
    expect(masters).toHaveLength(3);
    expect(replicas.map((r) => r.masterId).sort()).toEqual(masters.map((m) => m.id).sort());
    const slots = masters
      .flatMap((m) => m.slots)
      .map((range) => range.split('-').map(Number))
      .reduce((sum, [from, to = from]) => sum + to! - from! + 1, 0); // split yields at least one part
    expect(slots).toBe(16384);
  });

  it('spreads keys written through an ioredis Cluster client over every master; no password, no access', async () => {
    const client = cluster.client();
    for (const key of keys) await client.set(key, `value of ${key}`);
    const key = present(keys[0], 'a key');
    expect(await client.mget(key)).toEqual([`value of ${key}`]);
    const perMaster = await Promise.all(client.nodes('master').map((node) => node.dbsize()));
    expect(perMaster).toHaveLength(3);
    expect(perMaster.every((n) => n > 0)).toBe(true);
    expect(await refusal(connect(present(cluster.nodes[0], 'a node'), {}), (c) => c.get(key))).toMatch(
      /NOAUTH/,
    );
  });

  it("promotes a killed master's replica; the same client then reads that master's keys from it", async () => {
    const client = cluster.client();
    for (const key of keys) await client.set(key, `value of ${key}`);
    await cluster.waitForReplicasInSync();
    const { killed, promoted } = await cluster.killMaster();

    expect(killed.process.running()).toBe(false);
    const state = await cluster.clusterNodes();
    expect(state.find((n) => n.port === promoted.port)?.flags).toContain('master');
    expect(state.find((n) => n.port === killed.port)?.flags).toContain('fail');
    const values = await waitUntil(() => client.mget(...keys.slice(0, 1)), {
      what: 'the client reaching the cluster',
      ...UNTIL_IT_STOPS_THROWING,
    });
    expect(values).toEqual([`value of ${keys[0]}`]);
    for (const key of keys) expect(await client.get(key)).toBe(`value of ${key}`);
    const onPromoted = connect(promoted, cluster.security.client());
    await onPromoted.connect();
    expect(await onPromoted.dbsize()).toBeGreaterThan(0);
    onPromoted.disconnect();
  });

  it('stop() leaves no process and no file behind', async () => {
    await cluster.stop();
    expectNothingLeft(
      cluster.nodes.map((n) => n.process),
      cluster.dir,
    );
  });
});

describe('Sentinel harness: 1 master, 1 replica, 3 sentinels, TLS and an ACL user', () => {
  let sentinel: RedisSentinelTopology;
  const auth = { username: 'auth-service', password: PASSWORD };

  beforeAll(async () => {
    sentinel = await startRedisSentinel({ tls: true, auth });
  });
  afterAll(() => sentinel?.stop());

  /** Writes through the sentinel client until the write lands on `master` (it follows a failover). */
  async function writeLandsOn(client: Redis, master: RedisNode, key: string): Promise<void> {
    await waitUntil(
      async () => {
        await client.set(key, master.name);
        // A fresh direct connection per try: Sentinel ends every normal client of a node it
        // reconfigures (CLIENT KILL TYPE normal), and these connections do not reconnect.
        const direct = connect(master, sentinel.security.client());
        try {
          await direct.connect();
          if ((await direct.get(key)) !== master.name) throw new Error(`${key} is not on ${master.name} yet`);
        } finally {
          direct.disconnect();
        }
      },
      { what: `writes reaching ${master.name}`, ...UNTIL_IT_STOPS_THROWING },
    );
  }

  it('serves over TLS with the ACL user; refuses plain TCP and a client without credentials', async () => {
    const client = sentinel.client();
    await client.set('topology:sentinel:tls', 'yes');
    expect(await client.get('topology:sentinel:tls')).toBe('yes');
    const master = present(sentinel.dataNodes[0], 'the master');
    const replica = present(sentinel.dataNodes[1], 'its replica');
    expect((await client.info('replication')).includes('role:master')).toBe(true);

    const { tls, ...credentials } = sentinel.security.client();
    expect(await refusal(connect(master, credentials), (c) => c.ping())).not.toBe('accepted');
    expect(await refusal(connect(master, { tls }), (c) => c.get('topology:sentinel:tls'))).toMatch(/NOAUTH/);
    const wrongUser = { tls, username: 'default', password: PASSWORD };
    expect(await refusal(connect(replica, wrongUser), (c) => c.ping())).toMatch(/WRONGPASS|disabled/);
    expect(
      await refusal(connect(present(sentinel.sentinels[0], 'a sentinel'), { tls }), (c) =>
        c.call('SENTINEL', 'MASTERS'),
      ),
    ).toMatch(/NOAUTH/);
  });

  it('fails over on SENTINEL FAILOVER, and the ioredis sentinel client follows the new master', async () => {
    const client = sentinel.client({ failoverDetector: true });
    const before = await sentinel.currentMaster();
    await writeLandsOn(client, before, 'topology:sentinel:forced');

    const after = await sentinel.forceFailover();

    expect(after).not.toBe(before);
    expect(sentinel.dataNodes).toContain(after);
    await writeLandsOn(client, after, 'topology:sentinel:forced');
  });

  it('elects the replica when the master is killed, and the client follows', async () => {
    const client = sentinel.client({ failoverDetector: true });
    await writeLandsOn(client, await sentinel.currentMaster(), 'topology:sentinel:killed');

    const { killed, promoted } = await sentinel.killMaster();

    expect(killed.process.running()).toBe(false);
    expect(promoted).not.toBe(killed);
    await writeLandsOn(client, promoted, 'topology:sentinel:killed');
  });

  it('stop() leaves no process and no file behind', async () => {
    await sentinel.stop();
    expectNothingLeft(
      [...sentinel.dataNodes, ...sentinel.sentinels].map((n) => n.process),
      sentinel.dir,
    );
  });
});

describe('PostgreSQL harness: primary + streaming replica', () => {
  let pg: PostgresReplication;

  beforeAll(async () => {
    pg = await startPostgresReplication();
    await query(pg.primaryUrl, 'CREATE TABLE topology_rows (id int PRIMARY KEY, note text)');
  });
  afterAll(() => pg?.stop());

  const onReplica = async (id: number) =>
    (await query<{ note: string }>(pg.replicaUrl, 'SELECT note FROM topology_rows WHERE id = $1', [id]))[0]
      ?.note;

  it('runs the replica in recovery, and it replays a row written on the primary', async () => {
    expect(onlyRow(await query<{ r: boolean }>(pg.replicaUrl, 'SELECT pg_is_in_recovery() AS r')).r).toBe(
      true,
    );
    expect(onlyRow(await query<{ r: boolean }>(pg.primaryUrl, 'SELECT pg_is_in_recovery() AS r')).r).toBe(
      false,
    );
    await query(pg.primaryUrl, "INSERT INTO topology_rows VALUES (1, 'replayed')");
    await pg.waitForReplay();
    expect(await onReplica(1)).toBe('replayed');
  });

  it('holds a row back while replay is paused, and applies it on resume', async () => {
    await pg.pauseReplay();
    await query(pg.primaryUrl, "INSERT INTO topology_rows VALUES (2, 'held back')");
    const { lsn } = onlyRow(
      await query<{ lsn: string }>(pg.primaryUrl, 'SELECT pg_current_wal_lsn()::text AS lsn'),
    );
    // The replica has received the row's WAL (streaming goes on) but has not applied it.
    await waitUntil(
      async () =>
        onlyRow(
          await query<{ received: boolean }>(
            pg.replicaUrl,
            'SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), $1::pg_lsn) >= 0 AS received',
            [lsn],
          ),
        ).received,
      { what: 'the replica receiving the WAL', timeoutMs: 10_000, intervalMs: 20 },
    );
    expect(await onReplica(2)).toBeUndefined();
    await expect(pg.waitForReplay(500)).rejects.toThrow(/replaying/);

    await pg.resumeReplay();
    await pg.waitForReplay();
    expect(await onReplica(2)).toBe('held back');
  });

  it('stops the replica while the primary keeps serving', async () => {
    await pg.stopReplica();
    expect(pg.replica.running()).toBe(false);
    await expect(query(pg.replicaUrl, 'SELECT 1')).rejects.toThrow();
    await query(pg.primaryUrl, "INSERT INTO topology_rows VALUES (3, 'primary alone')");
    expect((await query(pg.primaryUrl, 'SELECT id FROM topology_rows')).length).toBe(3);
  });

  it('stop() leaves no process and no file behind', async () => {
    await pg.stop();
    expectNothingLeft([pg.primary, pg.replica], pg.dir);
  });
});
