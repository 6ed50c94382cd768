/**
 * A real Sentinel-managed Redis for tests: 1 master, 1 replica and 3 sentinels (quorum 2) on
 * spare ports, with a short down-after-milliseconds and failover-timeout so a failover, forced or
 * after the master's death, completes in seconds. Ready when the replica is in sync and every
 * sentinel knows the replica and the two other sentinels (a kill needs them to agree).
 */
import Redis, { RedisOptions } from 'ioredis';
import { buildTopology, TopologyDir } from './processes';
import { allStarted, command, firstRunning, parseInfo, RedisNode, startRedisNode } from './redis-node';
import { RedisSecurity, RedisSecurityOptions } from './redis-security';
import { waitUntil } from '../wait-until';

const SENTINEL_MASTER_NAME = 'mymaster';
const QUORUM = 2;
const SENTINELS = 3;
/** How long a master must stay silent before a sentinel thinks it down: no failover is quicker. */
export const SENTINEL_DOWN_AFTER_MS = 1_000;
/** Also the least time between two failovers of one master: twice this. */
const FAILOVER_TIMEOUT_MS = 2_000;
const READY_TIMEOUT_MS = 20_000;
const NEW_MASTER_TIMEOUT_MS = 20_000;
/**
 * Sentinel ends the normal clients of a data node it reconfigures (CLIENT KILL TYPE normal), the
 * harness's polling connections too ("Connection is closed"): while a failover settles, a poll that
 * throws means "not yet", and a wait that times out still reports the last error.
 */
const RECONFIGURED_NODES_DROP_CLIENTS = true;

export interface RedisSentinelTopology {
  readonly name: string;
  /** The two data nodes, the initial master first (a failover changes roles, not this list). */
  readonly dataNodes: RedisNode[];
  readonly sentinels: RedisNode[];
  /** For ioredis `sentinels` and for `REDIS_SENTINELS`. */
  readonly sentinelAddresses: { host: string; port: number }[];
  readonly security: RedisSecurity;
  /** The temp dir holding configs, certificates and logs; removed by `stop()`. */
  readonly dir: string;
  /** An ioredis client that finds the master through the sentinels; closed by `stop()`. */
  client(options?: RedisOptions): Redis;
  /** The data node every running sentinel names as master. */
  currentMaster(): Promise<RedisNode>;
  /** `SENTINEL FAILOVER`, resolved with the new master once the sentinels report it. */
  forceFailover(): Promise<RedisNode>;
  /**
   * SIGKILLs the master; resolved once the sentinels have elected and report its replica. It first
   * waits for a replica in sync: after a failover that is the former master, which keeps acting as
   * a master until a sentinel's next INFO to it (every 10 s) turns it into a replica. `killedAt` is
   * Date.now() as the signal went out.
   */
  killMaster(): Promise<{ killed: RedisNode; promoted: RedisNode; killedAt: number }>;
  /** Resolves with the master once every running sentinel reports one other than `previous`. */
  waitForNewMaster(previous: RedisNode): Promise<RedisNode>;
  /**
   * Resolves once `node` replicates `master` with its link up: a former master has then thrown away
   * whatever it alone had been told and resynchronised from the new one.
   */
  waitForReplicaOf(node: RedisNode, master: RedisNode): Promise<void>;
  stop(): Promise<void>;
}

export function startRedisSentinel(options: RedisSecurityOptions = {}): Promise<RedisSentinelTopology> {
  return buildTopology('redis-sentinel', async (dir) => {
    const security = new RedisSecurity(options, dir.path);
    const master = await startRedisNode({ name: 'master', config: [] }, security, dir);
    const replicaOf = [`replicaof 127.0.0.1 ${master.port}`];
    const replica = await startRedisNode({ name: 'replica', config: replicaOf }, security, dir);
    await waitUntil(() => replicaLinkUp(replica, security), {
      what: 'the replica syncing',
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 50,
    });
    const specs = Array.from({ length: SENTINELS }, (_, i) => ({
      name: `sentinel-${i + 1}`,
      config: monitorConfig(master, security),
      sentinel: true,
    }));
    const sentinels = await allStarted(specs.map((spec) => startRedisNode(spec, security, dir)));
    await waitUntil(() => sentinelsAgree(sentinels, security), {
      what: 'the sentinels ready',
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
    });
    return sentinelTopology([master, replica], sentinels, security, dir);
  });
}

function monitorConfig(master: RedisNode, security: RedisSecurity): string[] {
  const { auth } = security;
  return [
    `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${master.port} ${QUORUM}`,
    `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${SENTINEL_DOWN_AFTER_MS}`,
    `sentinel failover-timeout ${SENTINEL_MASTER_NAME} ${FAILOVER_TIMEOUT_MS}`,
    `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
    ...(auth ? [`sentinel auth-pass ${SENTINEL_MASTER_NAME} ${auth.password}`] : []),
    ...(auth?.username ? [`sentinel auth-user ${SENTINEL_MASTER_NAME} ${auth.username}`] : []),
  ];
}

function sentinelTopology(
  dataNodes: RedisNode[],
  sentinels: RedisNode[],
  security: RedisSecurity,
  dir: TopologyDir,
): RedisSentinelTopology {
  const runningSentinels = () => sentinels.filter((s) => s.process.running());
  const reportedMaster = async (): Promise<RedisNode | undefined> => {
    const ports = new Set<number>();
    for (const sentinel of runningSentinels()) {
      const [, port] = (await command(
        sentinel,
        security,
        'SENTINEL',
        'GET-MASTER-ADDR-BY-NAME',
        SENTINEL_MASTER_NAME,
      )) as [string, string];
      ports.add(Number(port));
    }
    const [port] = ports;
    return ports.size === 1 ? dataNodes.find((n) => n.port === port) : undefined;
  };
  const waitForNewMaster = async (previous: RedisNode): Promise<RedisNode> => {
    let master: RedisNode | undefined;
    await waitUntil(
      async () => {
        master = await reportedMaster();
        if (!master || master === previous || !master.process.running()) return false;
        return parseInfo(await command(master, security, 'INFO', 'replication')).role === 'master';
      },
      {
        what: `the sentinels reporting a master other than port ${previous.port}`,
        timeoutMs: NEW_MASTER_TIMEOUT_MS,
        intervalMs: 100,
        retryOnError: RECONFIGURED_NODES_DROP_CLIENTS,
      },
    );
    return master!;
  };
  const currentMaster = async (): Promise<RedisNode> => {
    const master = await reportedMaster();
    if (!master) throw new Error('The sentinels do not agree on a master');
    return master;
  };
  /**
   * A failover needs a replica in sync (asked directly: sentinels refresh what they know of a
   * replica's link only every 10 s) that every sentinel knows and does not see down.
   */
  const waitForStandby = async (): Promise<void> => {
    await waitUntil(
      async () => {
        const master = await reportedMaster();
        const others = dataNodes.filter((n) => n !== master && n.process.running());
        const linked = await Promise.all(others.map((n) => replicaLinkUp(n, security, master)));
        return (
          linked.includes(true) && (await sentinelsAgree(runningSentinels(), security, { linkStatus: false }))
        );
      },
      {
        what: 'a replica ready for failover',
        timeoutMs: READY_TIMEOUT_MS,
        intervalMs: 100,
        retryOnError: RECONFIGURED_NODES_DROP_CLIENTS,
      },
    );
  };

  return {
    name: SENTINEL_MASTER_NAME,
    dataNodes,
    sentinels,
    sentinelAddresses: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
    security,
    dir: dir.path,
    client: (options = {}) => {
      const { tls, username, password } = security.client();
      const client = new Redis({
        name: SENTINEL_MASTER_NAME,
        sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
        username,
        password,
        sentinelUsername: username,
        sentinelPassword: password,
        ...(tls ? { tls, sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
        ...options,
      });
      // A failover makes connection errors expected; a command that fails reports it to its caller.
      client.on('error', () => undefined);
      return dir.closeOnStop(client);
    },
    currentMaster,
    forceFailover: async () => {
      await waitForStandby();
      const previous = await currentMaster();
      await command(firstRunning(sentinels), security, 'SENTINEL', 'FAILOVER', SENTINEL_MASTER_NAME);
      return waitForNewMaster(previous);
    },
    killMaster: async () => {
      await waitForStandby();
      const killed = await currentMaster();
      const killedAt = Date.now();
      await killed.process.stop('SIGKILL');
      return { killed, promoted: await waitForNewMaster(killed), killedAt };
    },
    waitForNewMaster,
    waitForReplicaOf: (node, master) =>
      waitUntil(() => replicaLinkUp(node, security, master), {
        what: `${node.name} replicating ${master.name}`,
        timeoutMs: NEW_MASTER_TIMEOUT_MS,
        intervalMs: 100,
        retryOnError: RECONFIGURED_NODES_DROP_CLIENTS,
      }).then(() => undefined),
    stop: () => dir.stopAll(),
  };
}

async function replicaLinkUp(
  replica: RedisNode,
  security: RedisSecurity,
  master?: RedisNode,
): Promise<boolean> {
  const info = parseInfo(await command(replica, security, 'INFO', 'replication'));
  return info.master_link_status === 'up' && (!master || Number(info.master_port) === master.port);
}

/**
 * Every sentinel names the same master, sees a replica up (and, with `linkStatus`, linked to that
 * master as of its last INFO), and knows the other sentinels (their hello messages, every 2 s).
 */
async function sentinelsAgree(
  sentinels: RedisNode[],
  security: RedisSecurity,
  { linkStatus }: { linkStatus: boolean } = { linkStatus: true },
): Promise<boolean> {
  const masters = new Set<string>();
  for (const sentinel of sentinels) {
    const master = fieldsOf(await command(sentinel, security, 'SENTINEL', 'MASTER', SENTINEL_MASTER_NAME));
    const replicas = (
      (await command(sentinel, security, 'SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME)) as unknown[]
    ).map(fieldsOf);
    const healthyReplica = replicas.some(
      (r) =>
        r.flags === 'slave' &&
        (!linkStatus || (r['master-link-status'] === 'ok' && r['master-port'] === master.port)),
    );
    if (master.flags !== 'master' || Number(master['num-other-sentinels']) !== sentinels.length - 1)
      return false;
    if (!healthyReplica || master.port === undefined) return false;
    masters.add(master.port);
  }
  return masters.size === 1;
}

/** A sentinel's flat [key, value, key, value…] reply as a map. */
function fieldsOf(reply: unknown): Record<string, string> {
  const list = reply as string[];
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) fields[list[i]!] = list[i + 1]!; // both below length
  return fields;
}
