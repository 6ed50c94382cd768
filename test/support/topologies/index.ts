export { startRedisCluster } from './redis-cluster';
export type { RedisClusterTopology, ClusterNodeState } from './redis-cluster';
export { startRedisSentinel, SENTINEL_MASTER_NAME } from './redis-sentinel';
export type { RedisSentinelTopology } from './redis-sentinel';
export { startPostgresReplication, query } from './postgres-replication';
export type { PostgresReplication } from './postgres-replication';
export type { RedisSecurityOptions } from './redis-security';
export type { ServerProcess } from './processes';
export type { RedisNode } from './redis-node';
