/**
 * One redis-server (data node or sentinel) on a spare port, from a generated config file in the
 * topology's temp dir, and short-lived clients to it for the harness's own checks.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { findBinary, freePort } from '../servers';
import { ServerProcess, TopologyDir } from './processes';
import { RedisSecurity } from './redis-security';
import { waitUntil } from '../wait-until';

const execFileAsync = promisify(execFile);

export interface RedisNode {
  readonly name: string;
  readonly port: number;
  readonly process: ServerProcess;
}

export interface RedisNodeSpec {
  name: string;
  /** Topology-specific config lines (cluster, replicaof, sentinel monitor…). */
  config: string[];
  sentinel?: boolean;
}

const STARTUP_TIMEOUT_MS = 10_000;

const DATA_NODE = [
  'save ""',
  'appendonly no',
  // A replica's full sync starts at once, not after the default 5 s wait for other replicas.
  'repl-diskless-sync-delay 0',
];

function redisServerBinary(): string {
  const bin = findBinary('redis-server');
  if (!bin) throw new Error('redis-server is not installed (Debian: apt-get install redis-server)');
  return bin;
}

export async function startRedisNode(
  spec: RedisNodeSpec,
  security: RedisSecurity,
  dir: TopologyDir,
): Promise<RedisNode> {
  const port = await freePort();
  const nodeDir = join(dir.path, spec.name);
  mkdirSync(nodeDir);
  const configFile = join(nodeDir, 'redis.conf');
  const config = [
    'bind 127.0.0.1',
    ...security.listen(port),
    `dir ${nodeDir}`,
    ...(spec.sentinel ? security.sentinelAuth() : [...DATA_NODE, ...security.dataNodeAuth()]),
    ...spec.config,
  ];
  // Sentinels rewrite their config file (and data nodes theirs on REPLICAOF), so each has its own.
  writeFileSync(configFile, config.join('\n') + '\n');
  const args = spec.sentinel ? [configFile, '--sentinel'] : [configFile];
  const server = dir.start(spec.name, redisServerBinary(), args, join(nodeDir, 'server.log'));
  const node = { name: spec.name, port, process: server };
  try {
    await waitUntil(() => answers(node, security), {
      what: `${spec.name} (port ${port})`,
      timeoutMs: STARTUP_TIMEOUT_MS,
      intervalMs: 50,
    });
  } catch (error) {
    await server.stop('SIGKILL');
    throw new Error(`${(error as Error).message}; its log:\n${server.logTail()}`, { cause: error });
  }
  return node;
}

async function answers(node: RedisNode, security: RedisSecurity): Promise<boolean> {
  if (!node.process.running()) throw new Error(`${node.name} exited at start`);
  try {
    return (await command(node, security, 'PING')) === 'PONG';
  } catch {
    return false;
  }
}

/** The first of `nodes` whose process still runs; throws when none does. */
export function firstRunning(nodes: RedisNode[]): RedisNode {
  const node = nodes.find((n) => n.process.running());
  if (!node) throw new Error(`none of ${nodes.map((n) => n.name).join(', ')} is running`);
  return node;
}

/**
 * Waits for every start to settle, then fails with the first failure: the caller's `stop()` then
 * finds every process that did start (none is still starting behind its back).
 */
export async function allStarted(starts: Promise<RedisNode>[]): Promise<RedisNode[]> {
  const results = await Promise.allSettled(starts);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  return results.map((r) => (r as PromiseFulfilledResult<RedisNode>).value);
}

/** Sends one command on a fresh connection (the harness polls nodes that may be dead or restarting). */
export async function command(
  node: RedisNode,
  security: RedisSecurity,
  ...args: [string, ...(string | number)[]]
): Promise<unknown> {
  const client = new Redis({
    host: '127.0.0.1',
    port: node.port,
    ...security.client(),
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // Failures reach the caller through the rejected promise; the event would only be logged.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(...args);
  } finally {
    client.disconnect();
  }
}

/** `INFO <section>` (or `CLUSTER INFO`) text as a map of its `key:value` lines. */
export function parseInfo(text: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of String(text).split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1);
  }
  return fields;
}

/** Runs redis-cli with the topology's TLS and credentials; throws with its output when it fails. */
export async function redisCli(security: RedisSecurity, args: string[]): Promise<string> {
  const bin = findBinary('redis-cli');
  if (!bin) throw new Error('redis-cli is not installed (Debian: apt-get install redis-tools)');
  try {
    const { stdout } = await execFileAsync(bin, [...security.cliArgs(), ...args], {
      env: security.cliEnv(),
      timeout: 30_000,
    });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`redis-cli ${args.join(' ')} failed: ${stderr || stdout || (error as Error).message}`, {
      cause: error,
    });
  }
}
