/**
 * A real Redis Cluster for tests: 3 masters and 3 replicas (redis-server --cluster-enabled yes on
 * spare ports, joined by `redis-cli --cluster create --cluster-replicas 1`), ready when every node
 * says cluster_state:ok with all 16384 slots served and every master has an online replica.
 * A short node timeout makes a master's death and its replica's promotion take a few seconds.
 */
import { Cluster, ClusterOptions } from 'ioredis';
import { freePort } from '../servers';
import { buildTopology, TopologyDir } from './processes';
import {
  allStarted,
  command,
  firstRunning,
  parseInfo,
  RedisNode,
  RedisNodeSpec,
  redisCli,
  startRedisNode,
} from './redis-node';
import { RedisSecurity, RedisSecurityOptions } from './redis-security';
import { waitUntil } from '../wait-until';

const MASTERS = 3;
const ALL_SLOTS = '16384';
/** Failure detection takes about this long; the replica's election adds 0.5–1 s. */
const NODE_TIMEOUT_MS = 1_000;
const READY_TIMEOUT_MS = 20_000;
const FAILOVER_TIMEOUT_MS = 15_000;

interface ClusterNodeState {
  id: string;
  port: number;
  flags: string[];
  masterId?: string;
  /** Slot ranges it serves ("0-5460"), masters only. */
  slots: string[];
}

export interface RedisClusterTopology {
  /** Every node, masters first as created (a failover changes roles, not this list). */
  readonly nodes: RedisNode[];
  /** Startup nodes for ioredis and for `REDIS_NODES`. */
  readonly seeds: { host: string; port: number }[];
  readonly security: RedisSecurity;
  /** The temp dir holding configs, certificates and logs; removed by `stop()`. */
  readonly dir: string;
  /** An ioredis Cluster client with the topology's credentials and TLS; closed by `stop()`. */
  client(options?: ClusterOptions): Cluster;
  /** `CLUSTER NODES` as a running node sees it. */
  clusterNodes(): Promise<ClusterNodeState[]>;
  /** Resolves once every replica has the whole replication stream of its master. */
  waitForReplicasInSync(): Promise<void>;
  /**
   * SIGKILLs a master (default: the first one alive) and resolves once its replica has taken over;
   * `killedAt` is Date.now() as the signal went out.
   */
  killMaster(master?: RedisNode): Promise<{ killed: RedisNode; promoted: RedisNode; killedAt: number }>;
  stop(): Promise<void>;
}

export function startRedisCluster(options: RedisSecurityOptions = {}): Promise<RedisClusterTopology> {
  return buildTopology('redis-cluster', async (dir) => {
    const security = new RedisSecurity(options, dir.path);
    const specs = await Promise.all(Array.from({ length: MASTERS * 2 }, (_, i) => nodeSpec(`node-${i + 1}`)));
    const nodes = await allStarted(specs.map((spec) => startRedisNode(spec, security, dir)));
    const topology = clusterTopology(nodes, security, dir);
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    await redisCli(security, [
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
    await waitUntil(() => topology.ready(), {
      what: 'Redis Cluster (3 masters, 3 replicas) ready',
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
    });
    return topology;
  });
}

async function nodeSpec(name: string): Promise<RedisNodeSpec> {
  return {
    name,
    config: [
      'cluster-enabled yes',
      // The bus port is set rather than derived (port + 10000 may not exist or be taken).
      `cluster-port ${await freePort()}`,
      'cluster-config-file nodes.conf',
      `cluster-node-timeout ${NODE_TIMEOUT_MS}`,
      // A replica always stands for election, however long ago it last heard from its master.
      'cluster-replica-validity-factor 0',
    ],
  };
}

function clusterTopology(
  nodes: RedisNode[],
  security: RedisSecurity,
  dir: TopologyDir,
): RedisClusterTopology & { ready(): Promise<boolean> } {
  const running = () => nodes.filter((n) => n.process.running());

  const clusterNodes = async (): Promise<ClusterNodeState[]> =>
    parseClusterNodes(await command(firstRunning(nodes), security, 'CLUSTER', 'NODES'));

  /** Every running node sees the cluster up with every slot served. */
  const serving = async (): Promise<boolean> => {
    for (const node of running()) {
      const info = parseInfo(await command(node, security, 'CLUSTER', 'INFO'));
      if (info.cluster_state !== 'ok' || info.cluster_slots_ok !== ALL_SLOTS) return false;
    }
    return true;
  };

  /** Serving, and each of the 3 masters has a replica that could take over. */
  const ready = async (): Promise<boolean> => {
    if (!(await serving())) return false;
    const state = await clusterNodes();
    const masters = state.filter((n) => n.flags.includes('master') && !n.flags.includes('fail'));
    return masters.length === MASTERS && masters.every((m) => hasOnlineReplica(m, state));
  };

  const waitForReplicasInSync = async (): Promise<void> => {
    await waitUntil(
      async () => {
        for (const node of running()) {
          const info = parseInfo(await command(node, security, 'INFO', 'replication'));
          if (info.role !== 'master') continue;
          const replicas = Object.entries(info).flatMap(([k, v]) => (/^slave\d+$/.test(k) ? [v] : []));
          const offset = Number(info.master_repl_offset);
          if (!replicas.every((r) => Number(/offset=(\d+)/.exec(r)?.[1]) >= offset)) return false;
        }
        return true;
      },
      { what: 'Redis Cluster replicas catching up', timeoutMs: READY_TIMEOUT_MS, intervalMs: 50 },
    );
  };

  const killMaster = async (master?: RedisNode) => {
    const state = await clusterNodes();
    const isMaster = (n: RedisNode) => state.some((s) => s.port === n.port && s.flags.includes('master'));
    const victim = master ?? running().find(isMaster);
    const victimState = state.find((s) => s.port === victim?.port);
    const replicaState = state.find((s) => s.masterId === victimState?.id && !s.flags.includes('fail'));
    const promoted = nodes.find((n) => n.port === replicaState?.port);
    if (!victim || !promoted) throw new Error('No running master with a replica to kill');
    const killedAt = Date.now();
    await victim.process.stop('SIGKILL');
    await waitUntil(
      async () => {
        const replica = (await clusterNodes()).find((s) => s.port === promoted.port);
        return !!replica?.flags.includes('master') && (await serving());
      },
      {
        what: `the replica on port ${promoted.port} taking over from the master on port ${victim.port}`,
        timeoutMs: FAILOVER_TIMEOUT_MS,
        intervalMs: 100,
      },
    );
    return { killed: victim, promoted, killedAt };
  };

  return {
    nodes,
    seeds: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    security,
    dir: dir.path,
    client: (clientOptions = {}) => {
      const { tls, ...auth } = security.client();
      const client = new Cluster(
        nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
        { ...clientOptions, redisOptions: { ...auth, tls, ...clientOptions.redisOptions } },
      );
      // A failover makes connection errors expected; a command that fails reports it to its caller.
      client.on('error', () => undefined);
      return dir.closeOnStop(client);
    },
    clusterNodes,
    waitForReplicasInSync,
    killMaster,
    ready,
    stop: () => dir.stopAll(),
  };
}

function hasOnlineReplica(master: ClusterNodeState, state: ClusterNodeState[]): boolean {
  return state.some((n) => n.masterId === master.id && !n.flags.some((f) => f.startsWith('fail')));
}

/** `<id> <ip:port@cport[,host]> <flags> <master|-> <ping> <pong> <epoch> <link> <slot>...` per line. */
function parseClusterNodes(text: unknown): ClusterNodeState[] {
  return String(text)
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, master, , , , , ...slots] = line.trim().split(' ');
      if (id === undefined || address === undefined || flags === undefined)
        throw new Error(`not a CLUSTER NODES line: ${line}`);
      return {
        id,
        port: Number(/:(\d+)@/.exec(address)?.[1]),
        flags: flags.split(','),
        masterId: master === '-' ? undefined : master,
        slots,
      };
    });
}
