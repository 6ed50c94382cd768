export interface RedisOptions {
  /** Absent: no Redis at all; features that use it fall back to in-process behaviour. */
  url?: string;
  mode: 'standalone' | 'cluster' | 'sentinel';
  /** `host:port` list for cluster mode. */
  nodes: string[];
  /** `host:port` list for sentinel mode. */
  sentinels: string[];
  sentinelName: string;
  /** How long one command may take before it counts as failed. */
  commandTimeoutMs: number;
}

export const REDIS_OPTIONS = Symbol('REDIS_OPTIONS');
