// The service on each Redis topology, side by side: one instance with the shipped defaults on
// standalone Redis, on a Redis Cluster (3 masters + 3 replicas) and on Sentinel (1 master,
// 1 replica, 3 sentinels), each started by the topology harness (real redis-server processes on
// spare ports, no password, no TLS), one PostgreSQL database for all. For /auth/me and
// introspection: req/s (rounds alternate the topologies), then database statements and Redis
// commands per request (INFO commandstats deltas, summed over the masters).
//   npm run bench:topologies              full run, writes bench/TOPOLOGIES.md
//   npm run bench:topologies -- --smoke   a few seconds, proves the script works, writes bench/out/ only
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { createDatabase, dropDatabase } from '../test/support/databases';
import { canConnectPg, HOW_TO_GET_POSTGRES, startThrowawayRedis } from '../test/support/servers';
import { RedisNode, startRedisCluster, startRedisSentinel } from '../test/support/topologies';
import { measurePerRequest, PerRequest, Probe } from './measure';
import { Server, startService, stopAll } from './processes';
import { machine, versions } from './report';
import { LoadResult, wrkLoad, wrkVersion } from './wrk';

const OUT = join(__dirname, 'out');
const smoke = process.argv.includes('--smoke');
const ROUNDS = smoke ? 1 : Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = smoke ? 1 : Number(process.env.BENCH_DURATION ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const INTROSPECTION = { id: 'bench', secret: 'bench-introspection-secret-0123456789' };
const basic = `Basic ${Buffer.from(`${INTROSPECTION.id}:${INTROSPECTION.secret}`).toString('base64')}`;

interface Topology {
  name: string;
  /** The Redis variables the service gets (REDIS_MODE and its nodes alone for Cluster and Sentinel). */
  env: Record<string, string>;
  /** Direct connections to the nodes whose commandstats count: the masters. */
  counters(): Redis[];
  stop(): Promise<unknown>;
}

interface Row {
  topology: string;
  me: LoadResult[];
  introspect: LoadResult[];
  perMe?: PerRequest;
  perIntrospect?: PerRequest;
}

const direct = (node: RedisNode) => new Redis({ host: '127.0.0.1', port: node.port, lazyConnect: false });

async function startTopologies(): Promise<Topology[]> {
  const standalone = await startThrowawayRedis();
  if (!standalone) throw new Error('redis-server is not installed (Debian: apt-get install redis-server)');
  const cluster = await startRedisCluster();
  const sentinel = await startRedisSentinel();
  const master = await sentinel.currentMaster();
  const masterPorts = new Set(
    (await cluster.clusterNodes()).filter((n) => n.flags.includes('master')).map((n) => n.port),
  );
  return [
    {
      name: 'standalone',
      env: { REDIS_URL: standalone.url },
      counters: () => [new Redis(standalone.url)],
      stop: () => Promise.resolve(standalone.stop()),
    },
    {
      name: 'Cluster (3 masters + 3 replicas)',
      env: { REDIS_MODE: 'cluster', REDIS_NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(',') },
      counters: () => cluster.nodes.filter((n) => masterPorts.has(n.port)).map(direct),
      stop: () => cluster.stop(),
    },
    {
      name: 'Sentinel (1 master, 1 replica, 3 sentinels)',
      env: {
        REDIS_MODE: 'sentinel',
        REDIS_SENTINELS: sentinel.sentinelAddresses.map((s) => `${s.host}:${s.port}`).join(','),
        REDIS_SENTINEL_NAME: sentinel.name,
      },
      counters: () => [direct(master)],
      stop: () => sentinel.stop(),
    },
  ];
}

async function register(service: Server): Promise<string> {
  const stamp = `${Date.now()}.${Math.random().toString(36).slice(2)}`;
  const res = await fetch(`${service.url}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `bench.${stamp}@example.test`, password: `Bench-${stamp}-password` }),
  });
  if (!res.ok) throw new Error(`register: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

const meProbe = (token: string): Probe => ({
  path: '/api/v1/auth/me',
  headers: { authorization: `Bearer ${token}` },
});
const introspectProbe = (token: string): Probe => ({
  path: '/api/v1/auth/introspect',
  method: 'POST',
  headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
  body: `token=${token}`,
});

const load = (service: Server, probe: Probe) =>
  wrkLoad({
    url: `${service.url}${probe.path}`,
    method: probe.method,
    headers: probe.headers,
    body: probe.body,
    connections: CONNECTIONS,
    durationSeconds: DURATION,
  });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const wrk = wrkVersion();
  if (!wrk) throw new Error('wrk is needed (Debian: apt-get install wrk)');
  const pgAdmin = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  if (!(await canConnectPg(pgAdmin)))
    throw new Error(`Cannot reach PostgreSQL at BENCH_DATABASE_URL. ${HOW_TO_GET_POSTGRES}`);
  const runId = Date.now().toString(36);
  const dbName = `auth_bench_topologies_${runId}`;
  const dbUrl = await createDatabase(pgAdmin, dbName);
  const topologies: Topology[] = [];
  const counters: Redis[] = [];
  try {
    topologies.push(...(await startTopologies()));
    const services: { topology: Topology; service: Server; token: string }[] = [];
    for (const [i, topology] of topologies.entries()) {
      // Only what a deployment must set; the first instance migrates the database, the others wait for it.
      const service = await startService(`auth (${topology.name})`, {
        DATABASE_URL: dbUrl,
        CACHE_KEY_PREFIX: `bench_${runId}`,
        NODE_ENV: 'production',
        INTROSPECTION_CLIENTS: `${INTROSPECTION.id}:${INTROSPECTION.secret}`,
        APP_URL: 'http://bench.local',
        JWT_AUDIENCE: 'auth-service',
        ...(i > 0 ? { DB_MIGRATE_ON_START: 'false' } : {}),
        ...topology.env,
      });
      services.push({ topology, service, token: await register(service) });
    }

    const rows: Row[] = services.map(({ topology }) => ({ topology: topology.name, me: [], introspect: [] }));
    for (let round = 0; round < ROUNDS; round++) {
      const shift = round % services.length;
      for (const n of [...services.keys()].slice(shift).concat([...services.keys()].slice(0, shift))) {
        const { service, token, topology } = services[n]!;
        const me = await load(service, meProbe(token));
        const introspect = await load(service, introspectProbe(token));
        rows[n]!.me.push(me);
        rows[n]!.introspect.push(introspect);
        console.log(
          `round ${round + 1}/${ROUNDS}  ${topology.name.padEnd(44)} /auth/me ${me.rps.toFixed(0).padStart(6)} req/s  introspection ${introspect.rps.toFixed(0).padStart(6)} req/s`,
        );
      }
    }
    for (const [n, { service, token, topology }] of services.entries()) {
      const redis = topology.counters();
      counters.push(...redis);
      rows[n]!.perMe = await measurePerRequest(service, meProbe(token), redis);
      rows[n]!.perIntrospect = await measurePerRequest(service, introspectProbe(token), redis);
    }

    const markdown = render(rows, new Date().toISOString(), wrk);
    const file = smoke ? join(OUT, 'TOPOLOGIES.smoke.md') : join(__dirname, 'TOPOLOGIES.md');
    writeFileSync(file, markdown);
    console.log(`\n${markdown}\nwrote ${file}`);
  } finally {
    stopAll();
    counters.forEach((c) => c.disconnect());
    await Promise.allSettled(topologies.map((t) => t.stop()));
    await dropDatabase(pgAdmin, dbName).catch(() => undefined);
  }
}

function render(rows: Row[], stamp: string, wrk: string): string {
  const failures = (results: LoadResult[]) => results.reduce((sum, r) => sum + r.non2xx + r.errors, 0);
  // The median, and every round's figure: on a shared machine the spread says how far to trust it.
  const cell = (results: LoadResult[]) =>
    `${median(results.map((r) => r.rps)).toFixed(0)} (${results.map((r) => r.rps.toFixed(0)).join(', ')}) | ${median(results.map((r) => r.p99))}`;
  const per = (m?: PerRequest) =>
    m ? `${m.redisCommands.toFixed(2)} | ${m.dbStatements.toFixed(3)}` : 'n/a | n/a';
  const lines = [
    '# The service on each Redis topology',
    '',
    `Run ${stamp}${smoke ? ' (SMOKE: too short to mean anything)' : ''}. Command: \`npm run bench:topologies${smoke ? ' -- --smoke' : ''}\``,
    `(${ROUNDS} rounds × ${DURATION} s per route and topology, ${CONNECTIONS} connections, topologies alternate order each round; req/s and p99 are medians over rounds).`,
    '',
    `Machine: ${machine()}, **shared during this run with other work (other test suites and builds ran beside it)**: compare the rows with each other, not with bench/RESULTS.md. Load generator: ${wrk} (one thread), on the same machine.`,
    `Versions: ${versions(wrk)}.`,
    '',
    "One service instance per topology, with the shipped defaults (info logging to a pipe, rate limits on, cache on); set: `DATABASE_URL`, `CACHE_KEY_PREFIX`, `NODE_ENV=production`, `INTROSPECTION_CLIENTS`, `APP_URL`, `JWT_AUDIENCE`, and the topology's own: `REDIS_URL` (standalone), `REDIS_MODE=cluster` + `REDIS_NODES`, `REDIS_MODE=sentinel` + `REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`. Every Redis server is a local redis-server started by the topology harness (test/support/topologies), no password, no TLS.",
    '',
    '| topology | /auth/me req/s (each round) | p99 ms | introspection req/s (each round) | p99 ms | /auth/me Redis cmds/req | DB stmts/req | introspection Redis cmds/req | DB stmts/req | non-2xx or errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.topology} | ${cell(r.me)} | ${cell(r.introspect)} | ${per(r.perMe)} | ${per(r.perIntrospect)} | ${failures([...r.me, ...r.introspect])} |`,
    ),
    '',
    'On the Cluster strict L1 is off (README, "Running several instances": `PUBLISH` counts one node\'s subscribers only, and the acknowledged invalidations need the count), so each request reads its session and user from Redis: one command per request, where standalone and Sentinel answer from the in-process L1 (0 commands) while their invalidation channel is healthy.',
    '',
    "Redis commands per request: `INFO commandstats` deltas over 5,000 requests (8 connections) after 300 to warm, summed over the masters (replicas and sentinels left out), less the background rate measured over an idle second just before; PUBLISH (the invalidation heartbeats) and INFO are not counted. Database statements from the service's own `auth_db_queries_total`.",
  ];
  return lines.join('\n') + '\n';
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
