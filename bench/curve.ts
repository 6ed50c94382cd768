// The cost curve: GET /auth/me over a growing number of distinct live sessions (1, 1k, 10k, 100k,
// 1M), each request carrying the next session's token (wrk, from a file of all N tokens). For each
// point the service restarts with the shipped defaults on a database holding exactly N users with
// one live session each, warms as after a deploy (its own start-up warmer, then every token once),
// and the report gives req/s and p99 beside the same point's ceiling (a bare Fastify GET), Redis
// commands and DB statements per request, the L1 hit ratio, the server's RSS, and Redis memory
// per cached session and user.
//   npm run bench:curve                 1 … 1M, writes bench/CURVE.md
//   npm run bench:curve -- --max=100k   stops after 100k (no 1M point); --min=100k starts there
import { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import {
  canConnectPg,
  HOW_TO_GET_POSTGRES,
  HOW_TO_GET_REDIS,
  startThrowawayRedis,
} from '../test/support/servers';
import { cacheKeysOf, mintAccessTokens, RedisSeedResult, seedRedisEntries, seedSessions } from './curve-seed';
import { CurvePoint, renderCurve } from './curve-report';
import { redisCommandCounts } from './measure';
import { Server, startBenchProgram, startService, stopAll } from './processes';
import { wrkLoad, wrkVersion } from './wrk';

const OUT = join(__dirname, 'out');
const SIZES = [1, 1_000, 10_000, 100_000, 1_000_000];
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const COUNT_SECONDS = 5;
/**
 * Above this, the entries the warmer leaves out are written straight into Redis, not through
 * requests: on this 2-core machine a pass of 100k requests takes minutes, longer than a session
 * entry lives (CACHE_TTL_SESSION, 300 s), so passes never reach the steady state being measured.
 */
const WARM_THROUGH_REQUESTS_MAX = 10_000;
/** The shipped defaults (env.schema.ts): CACHE_TTL_SESSION, CACHE_TTL_USER, JWT_ACCESS_TTL. */
const TTL_MS = { session: 300_000, user: 900_000 };
const ACCESS_TTL_SECONDS = 900;
const APP_URL = 'http://bench.local';
const AUDIENCE = 'auth-service';

/** The value of `--<name>=<size>` (1, 1000, 10k, 1M), or `fallback`. */
function sizeFlag(name: string, fallback: number): number {
  const arg = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`));
  if (!arg) return fallback;
  const text = arg.slice(name.length + 3).toLowerCase();
  const scale = text.endsWith('m') ? 1e6 : text.endsWith('k') ? 1e3 : 1;
  const size = Number(text.replace(/[km]$/, '')) * scale;
  if (!Number.isFinite(size) || size < 1) throw new Error(`--${name}: not a size: ${arg}`);
  return size;
}

async function main(): Promise<void> {
  const wrk = wrkVersion();
  if (!wrk) throw new Error('the cost curve needs wrk (apt-get install -y wrk)');
  mkdirSync(OUT, { recursive: true });
  const sizes = SIZES.filter((n) => n >= sizeFlag('min', 1) && n <= sizeFlag('max', Infinity));
  const pgAdmin = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  if (!(await canConnectPg(pgAdmin)))
    throw new Error(`Cannot reach PostgreSQL at BENCH_DATABASE_URL. ${HOW_TO_GET_POSTGRES}`);
  // A private Redis: its command counts and memory are the service's alone, and it is flushed per point.
  const privateRedis = await startThrowawayRedis();
  if (!privateRedis) throw new Error(`the cost curve needs redis-server installed. ${HOW_TO_GET_REDIS}`);

  const runId = Date.now().toString(36);
  const dbName = `auth_curve_${runId}`;
  const admin = new Client({ connectionString: pgAdmin });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const dbUrl = new URL(pgAdmin);
  dbUrl.pathname = `/${dbName}`;
  const db = new Client({ connectionString: dbUrl.toString() });
  const redis = new Redis(privateRedis.url);
  const prefix = `curve_${runId}`;
  const env = {
    DATABASE_URL: dbUrl.toString(),
    REDIS_URL: privateRedis.url,
    // Not a service variable: e.g. BENCH_NODE_OPTIONS=--max-old-space-size=256, as deploy/kubernetes sets it.
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
    CACHE_KEY_PREFIX: prefix,
    NODE_ENV: 'production',
    INTROSPECTION_CLIENTS: 'bench:bench-introspection-secret-0123456789',
    APP_URL,
    JWT_AUDIENCE: AUDIENCE,
  };

  try {
    // The first start migrates the database and generates the signing key the tokens are minted with.
    await stopAndWait((await startService('auth (defaults)', env)).process);
    await db.connect();
    const ceiling = await startBenchProgram('ceiling', 'ceiling-server.ts');
    const points: CurvePoint[] = [];
    for (const n of sizes) {
      points.push(await measurePoint(n, { db, redis, env, prefix, ceiling }));
      const p = points.at(-1)!;
      console.log(
        `${String(n).padStart(8)} sessions: ${p.rps.toFixed(0)} req/s (${(p.rps / p.ceilingRps).toFixed(3)} of the ceiling), p99 ${p.p99} ms, ` +
          `${p.redisPerRequest.toFixed(2)} Redis cmds/req, ${p.dbPerRequest.toFixed(4)} DB stmts/req, RSS ${(p.rssBytes / 2 ** 20).toFixed(0)} MB`,
      );
      writeFileSync(join(OUT, `curve-${runId}.json`), JSON.stringify(points, null, 2));
    }
    const markdown = renderCurve(points, {
      stamp: new Date().toISOString(),
      wrk,
      command: command(),
      duration: DURATION,
      connections: CONNECTIONS,
    });
    writeFileSync(join(__dirname, 'CURVE.md'), markdown);
    console.log('\nwrote bench/CURVE.md');
  } finally {
    stopAll();
    redis.disconnect();
    privateRedis.stop();
    await db.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

interface Context {
  db: Client;
  redis: Redis;
  env: Record<string, string>;
  prefix: string;
  ceiling: Server;
}

/** One point of the curve, on a service started for it (and stopped after it). */
async function measurePoint(n: number, c: Context): Promise<CurvePoint> {
  const { db, redis } = c;
  console.log(`\n== ${n} live sessions`);
  // Exactly N live sessions: the previous point's users (and, by cascade, their sessions) go.
  await db.query('TRUNCATE users CASCADE');
  await redis.flushall();
  const usedBefore = await usedMemory(redis);
  let t = performance.now();
  const sessions = await seedSessions(db, n, new Date(Math.floor(Date.now() / 1000) * 1000));
  await db.query('ANALYZE users, sessions');
  const seedSeconds = (performance.now() - t) / 1000;
  const tokensPath = join(OUT, `curve-tokens-${n}.txt`);
  t = performance.now();
  await mintAccessTokens(
    db,
    sessions,
    { issuer: APP_URL, audience: AUDIENCE, ttlSeconds: ACCESS_TTL_SECONDS },
    tokensPath,
  );
  const mintSeconds = (performance.now() - t) / 1000;
  console.log(
    `seeded ${n} users and sessions in ${seedSeconds.toFixed(1)} s, minted their tokens in ${mintSeconds.toFixed(1)} s`,
  );

  // A restart, as after a deploy: the start-up warmer caches the most recently active sessions.
  const service = await startService('auth (defaults)', c.env);
  t = performance.now();
  await waitForWarmer(service.url);
  const warmerSeconds = (performance.now() - t) / 1000;
  // Up to 10k the warm passes send every token; above, only the first is needed (1M tokens, 562
  // MB, would not even fit in one string).
  const tokens = n <= WARM_THROUGH_REQUESTS_MAX ? readLines(tokensPath) : [firstLine(tokensPath)];
  const first = await get(service.url, tokens[0]!);
  if (first !== 200)
    throw new Error(`a minted token was refused (${first}): the minting does not match the service`);

  let warm: CurvePoint['warm'];
  let redisSeed: RedisSeedResult | undefined;
  if (n <= WARM_THROUGH_REQUESTS_MAX) {
    // Every session's token once, as its user's next request would: what the warmer left out (or
    // could not store: a Redis call over its budget stores nothing) fills. Again while a pass
    // still loads more than 1% of its entries from PostgreSQL, at most 3 passes.
    warm = [];
    for (let pass = 0; pass < 3; pass++) {
      const before = await snapshot(service.url, redis);
      t = performance.now();
      const failures = await everyTokenOnce(service.url, tokens);
      const seconds = (performance.now() - t) / 1000;
      const d = diff(before, await snapshot(service.url, redis));
      if (failures) throw new Error(`warm pass: ${failures} answers were not 200`);
      warm.push({ seconds, loads: d.loads, redisErrors: d.errors, dbPerRequest: d.db / n });
      if (d.loads <= 0.01 * 2 * n) break;
    }
  } else {
    t = performance.now();
    const { rows } = await db.query<{ value: string }>(
      `SELECT value FROM service_secrets WHERE name = 'cache-encryption-key'`,
    );
    if (!rows[0]) throw new Error('no cache-encryption-key in service_secrets');
    redisSeed = await seedRedisEntries(
      redis,
      c.prefix,
      sessions,
      TTL_MS,
      Buffer.from(rows[0].value, 'base64'),
    );
    warm = { seconds: (performance.now() - t) / 1000, direct: redisSeed };
  }
  tokens.length = 0;

  // The per-request counts at a moderate load (8 connections), where a Redis call should not
  // overrun its 50 ms budget (CACHE_REDIS_TIMEOUT_MS) for want of CPU; then the throughput run.
  const rotate = { header: 'authorization', prefix: 'Bearer ', path: tokensPath };
  const url = `${service.url}/api/v1/auth/me`;
  const before = await snapshot(service.url, redis);
  const counted = await wrkLoad({
    url,
    rotateFromFile: rotate,
    connections: 8,
    durationSeconds: COUNT_SECONDS,
  });
  const d = diff(before, await snapshot(service.url, redis));
  const loadBefore = await snapshot(service.url, redis);
  const me = await wrkLoad({
    url,
    rotateFromFile: rotate,
    connections: CONNECTIONS,
    durationSeconds: DURATION,
  });
  const afterLoad = await snapshot(service.url, redis);
  const underLoad = diff(loadBefore, afterLoad);
  for (const run of [counted, me])
    if (run.non2xx + run.errors > 0)
      throw new Error(`${n} sessions: ${run.non2xx} non-2xx answers, ${run.errors} socket errors`);
  const rss = memoryOf(service.process.pid!);
  const ceilingRun = await wrkLoad({
    url: `${c.ceiling.url}/`,
    connections: CONNECTIONS,
    durationSeconds: DURATION,
  });

  const keys = cacheKeysOf(c.prefix);
  const s0 = sessions[0]!;
  const memoryUsage = async (key: string) => Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
  const point: CurvePoint = {
    sessions: n,
    rps: me.rps,
    p99: me.p99,
    ceilingRps: ceilingRun.rps,
    ceilingP99: ceilingRun.p99,
    requests: me.requests,
    counted: counted.requests,
    redisPerRequest: d.redis / counted.requests,
    redisByCommand: perRequest(d.redisByCommand, counted.requests),
    roundTripsPerRequest: d.roundTrips / counted.requests,
    redisErrors: d.errors,
    loadsPerRequest: d.loads / counted.requests,
    dbPerRequest: d.db / counted.requests,
    dbBySeries: perRequest(d.dbBySeries, counted.requests),
    underLoad: {
      dbPerRequest: underLoad.db / me.requests,
      roundTripsPerRequest: underLoad.roundTrips / me.requests,
      redisErrors: underLoad.errors,
    },
    l1HitRatio: d.l1Hits + d.l1Misses > 0 ? d.l1Hits / (d.l1Hits + d.l1Misses) : Number.NaN,
    rssBytes: rss.rss,
    heapUsedBytes: afterLoad.heap.used,
    heapTotalBytes: afterLoad.heap.total,
    peakRssBytes: rss.peak,
    sessionEntryBytes: await memoryUsage(keys.session(s0)),
    userEntryBytes: await memoryUsage(keys.user(s0)),
    tagSetBytes: await memoryUsage(keys.tagSet(s0)),
    redisBytesPerSession: ((await usedMemory(redis)) - usedBefore) / n,
    redisKeys: await redis.dbsize(),
    seedSeconds,
    mintSeconds,
    warmerSeconds,
    warm,
  };
  await stopAndWait(service.process);
  return point;
}

/** Until the start-up warmer has finished its run (its metric says so). */
async function waitForWarmer(url: string): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if (/^auth_cache_warm_runs_total\{[^}]*result="completed"[^}]*\} [1-9]/m.test(text)) return;
    if (/^auth_cache_warm_runs_total\{[^}]*result="failed"[^}]*\} [1-9]/m.test(text))
      throw new Error('the start-up cache warming failed');
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the start-up cache warming did not finish in 5 minutes');
}

const agent = new Agent({ keepAlive: true, maxSockets: 32 });

function get(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/v1/auth/me`,
      { agent, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** GET /auth/me once with every token, 32 at a time; answers how many were not 200. */
async function everyTokenOnce(url: string, tokens: string[]): Promise<number> {
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < tokens.length) if ((await get(url, tokens[next++]!)) !== 200) failures++;
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return failures;
}

interface Snapshot {
  db: Map<string, number>;
  redis: Map<string, number>;
  l1: { hits: number; misses: number };
  /** The service's awaited Redis calls (auth_cache_redis_duration_seconds_count) and failed ones. */
  roundTrips: number;
  errors: number;
  /** Entries loaded from PostgreSQL on a miss (auth_cache_loads_total). */
  loads: number;
  /** V8's heap (prom-client's default metrics), to tell live objects from RSS. */
  heap: { used: number; total: number };
}

/** The service's DB statements (by series) and L1 lookups, and the private Redis's commands. */
async function snapshot(url: string, redis: Redis): Promise<Snapshot> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const db = new Map<string, number>();
  const l1 = { hits: 0, misses: 0 };
  let roundTrips = 0;
  let errors = 0;
  let loads = 0;
  const heap = { used: 0, total: 0 };
  for (const line of text.split('\n')) {
    const [series, value] = [
      line.slice(0, line.lastIndexOf(' ')),
      Number(line.slice(line.lastIndexOf(' ') + 1)),
    ];
    // The signing-key reload (every 10 s) is not per-request work.
    if (series.startsWith('auth_cache_loads_total{')) loads += value;
    if (series === 'nodejs_heap_size_used_bytes') heap.used = value;
    if (series === 'nodejs_heap_size_total_bytes') heap.total = value;
    if (series.startsWith('auth_db_queries_total{') && !series.includes('table="signing_keys"'))
      db.set(series.slice('auth_db_queries_total'.length), value);
    if (series.startsWith('auth_cache_redis_duration_seconds_count')) roundTrips += value;
    if (series.startsWith('auth_cache_errors_total')) errors += value;
    if (series.startsWith('auth_cache_lookups_total{') && series.includes('tier="l1"')) {
      if (series.includes('result="hit"')) l1.hits += value;
      if (series.includes('result="miss"')) l1.misses += value;
    }
  }
  return { db, redis: await redisCommandCounts([redis]), l1, roundTrips, errors, loads, heap };
}

function diff(a: Snapshot, b: Snapshot) {
  const delta = (x: Map<string, number>, y: Map<string, number>) =>
    new Map([...y].map(([k, v]) => [k, v - (x.get(k) ?? 0)] as const).filter(([, v]) => v > 0));
  const dbBySeries = delta(a.db, b.db);
  // The probes' own commands (INFO, MGET of the metrics scrape's DBSIZE/INFO) are left out by name.
  const redisByCommand = delta(a.redis, b.redis);
  redisByCommand.delete('dbsize');
  const sum = (m: Map<string, number>) => [...m.values()].reduce((s, v) => s + v, 0);
  return {
    db: sum(dbBySeries),
    dbBySeries,
    redis: sum(redisByCommand),
    redisByCommand,
    l1Hits: b.l1.hits - a.l1.hits,
    l1Misses: b.l1.misses - a.l1.misses,
    roundTrips: b.roundTrips - a.roundTrips,
    errors: b.errors - a.errors,
    loads: b.loads - a.loads,
  };
}

function readLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean);
}

function firstLine(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, length).toString('utf8').split('\n')[0]!;
  } finally {
    closeSync(fd);
  }
}

function perRequest(counts: Map<string, number>, requests: number): Record<string, number> {
  return Object.fromEntries([...counts].map(([k, v]) => [k, v / requests]));
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1] ?? Number.NaN);
}

/** VmRSS and VmHWM (the peak) from /proc/<pid>/status, in bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

async function stopAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

function command(): string {
  const settings = ['BENCH_DURATION', 'BENCH_CONNECTIONS', 'BENCH_NODE_OPTIONS']
    .filter((name) => process.env[name] !== undefined)
    .map((name) => `${name}=${process.env[name]} `)
    .join('');
  const flags = process.argv.slice(2).join(' ');
  return `${settings}npm run bench:curve${flags ? ` -- ${flags}` : ''}`;
}

main().catch((error: Error) => {
  console.error(`cost curve failed: ${error.stack ?? error.message}`);
  stopAll();
  process.exit(1);
});
