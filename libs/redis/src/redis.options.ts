export interface RedisOptions {
  /** Standalone: absent means no Redis at all; features that use it fall back to in-process behaviour. */
  url?: string;
  /** `cluster` and `sentinel` connect with their node list alone (the URL then only lends credentials and TLS). */
  mode: 'standalone' | 'cluster' | 'sentinel';
  /** `host:port` list for cluster mode. */
  nodes: string[];
  /** `host:port` list for sentinel mode. */
  sentinels: string[];
  sentinelName: string;
  /** ACL user and password; they win over the URL's. In sentinel mode the sentinels get the same. */
  username?: string;
  password?: string;
  /** TLS to every node (and every sentinel); a `rediss://` URL turns it on too. */
  tls?: boolean;
  /** PEM of the CA that signed the servers' certificates, when it is not a public one. */
  tlsCa?: string;
  /** How long one command may take before it counts as failed. */
  commandTimeoutMs: number;
}

/** Whether these options name a Redis to connect to: a URL, or a mode with its node list. */
export function redisConfigured(options: RedisOptions): boolean {
  return options.mode === 'standalone' ? options.url !== undefined : true;
}

export const REDIS_OPTIONS = Symbol('REDIS_OPTIONS');
