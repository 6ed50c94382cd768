export { startRedisCluster } from './redis-cluster';
export type { RedisClusterTopology } from './redis-cluster';
export { SENTINEL_DOWN_AFTER_MS, startRedisSentinel } from './redis-sentinel';
export type { RedisSentinelTopology } from './redis-sentinel';
export { startPostgresReplication, query } from './postgres-replication';
export type { PostgresReplication } from './postgres-replication';
export type { ServerProcess } from './processes';
export type { RedisNode } from './redis-node';
