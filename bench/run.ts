// The benchmark: starts the service (cache on, and cache off) on a real PostgreSQL and Redis next
// to a bare Fastify route (the ceiling), seeds users and sessions, loads each target in alternating
// rounds with autocannon, and writes medians, ratios to the ceiling and a chart.
//   npm run bench                  full run, writes bench/RESULTS.md and bench/results.svg
//   npm run bench -- --smoke       a few seconds, proves the script works (CI), writes bench/out/ only
//   npm run bench -- --profile     also records a CPU profile of the cache-on service under /auth/me load
import autocannon from 'autocannon';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import {
  canConnectPg,
  canConnectRedis,
  freePort,
  HOW_TO_GET_POSTGRES,
  HOW_TO_GET_REDIS,
} from '../test/support/servers';
import { beforeFirst } from '../apps/auth-service/src/common/before-first';
import { renderChart } from './chart';
import { summariseProfile } from './profile-summary';
import { LoadResult, wrkLoad, wrkVersion } from './wrk';

const ROOT = join(__dirname, '..');
const OUT = join(__dirname, 'out');
const args = new Set(process.argv.slice(2));
const smoke = args.has('--smoke');
const profile = args.has('--profile');
const ROUNDS = smoke ? 1 : Number(process.env.BENCH_ROUNDS ?? 5);
const DURATION = smoke ? 1 : Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const INTROSPECTION = { id: 'bench', secret: 'bench-introspection-secret-0123456789' };
// wrk where installed (BENCH_LOAD_GENERATOR=autocannon to compare), for the requests that never change.
const WRK = process.env.BENCH_LOAD_GENERATOR === 'autocannon' ? undefined : wrkVersion();
const basic = `Basic ${Buffer.from(`${INTROSPECTION.id}:${INTROSPECTION.secret}`).toString('base64')}`;

interface Sample {
  target: string;
  round: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

interface Target {
  name: string;
  options: () => autocannon.Options;
  /** The same request every time: wrk can send it. */
  fixed?: boolean;
}

const children: ChildProcess[] = [];

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const pgAdmin = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!(await canConnectPg(pgAdmin)))
    throw new Error(`Cannot reach PostgreSQL at BENCH_DATABASE_URL. ${HOW_TO_GET_POSTGRES}`);
  if (!(await canConnectRedis(redisUrl)))
    throw new Error(`Cannot reach Redis at BENCH_REDIS_URL. ${HOW_TO_GET_REDIS}`);

  const runId = Date.now().toString(36);
  const dbName = `auth_bench_${runId}`;
  const admin = new Client({ connectionString: pgAdmin });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const dbUrl = new URL(pgAdmin);
  dbUrl.pathname = `/${dbName}`;
  const prefix = `bench_${runId}`;

  try {
    const common = {
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL: redisUrl,
      CACHE_KEY_PREFIX: prefix,
      LOG_LEVEL: 'error',
      NODE_ENV: 'production',
      COOKIE_SECURE: 'false',
      INTROSPECTION_CLIENTS: `${INTROSPECTION.id}:${INTROSPECTION.secret}`,
      APP_URL: 'http://bench.local',
      // The load comes from one IP: the per-IP limits would answer 429 instead of measuring the route.
      RATE_LIMIT_ENABLED: 'false',
    };
    const cacheOn = await startService(
      'auth (cache on)',
      { ...common },
      profile ? ['--cpu-prof', `--cpu-prof-dir=${join(OUT, 'profile')}`] : [],
    );
    const cacheOff = await startService('auth (cache off)', {
      ...common,
      CACHE_ENABLED: 'false',
      DB_MIGRATE_ON_START: 'false',
    });
    const ceiling = await startCeiling();

    console.log('seeding users and sessions…');
    const seed = await seedUsers(cacheOn, 2 * CONNECTIONS);
    const targets = defineTargets({ cacheOn, cacheOff, ceiling }, seed);

    const samples: Sample[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const shift = round % targets.length;
      const order = [...targets.slice(shift), ...targets.slice(0, shift)];
      for (const target of order) {
        const result =
          WRK && target.fixed ? await wrkLoad(fixedRequest(target.options())) : await load(target.options());
        samples.push({ target: target.name, round, ...result });
        console.log(
          `round ${round + 1}/${ROUNDS}  ${target.name.padEnd(28)} ${result.rps.toFixed(0).padStart(7)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms`,
        );
      }
    }

    const perRequest = await measurePerRequest(cacheOn, seed.tokens[0]);
    const mixed = await measureMixed(cacheOn, seed);
    const report = buildReport(samples, perRequest, mixed);

    if (profile) {
      stop(cacheOn.process);
      await new Promise((r) => setTimeout(r, 1_500));
    }
    const profileSummary = profile ? summariseLatestProfile() : undefined;

    const stamp = new Date().toISOString();
    writeFileSync(
      join(OUT, `raw-${runId}.json`),
      JSON.stringify({ stamp, smoke, samples, perRequest, mixed }, null, 2),
    );
    const markdown = renderMarkdown(report, perRequest, mixed, stamp, profileSummary);
    const svg = renderChart(report.rows.map((r) => ({ name: r.target, rps: r.rps, p99: r.p99 })));
    if (smoke) {
      writeFileSync(join(OUT, 'RESULTS.smoke.md'), markdown);
      writeFileSync(join(OUT, 'results.smoke.svg'), svg);
      console.log(`\nsmoke run OK: ${samples.length} measurements; report in bench/out/RESULTS.smoke.md`);
    } else {
      writeFileSync(join(__dirname, 'RESULTS.md'), markdown);
      writeFileSync(join(__dirname, 'results.svg'), svg);
      console.log('\nwrote bench/RESULTS.md and bench/results.svg');
    }
    console.log('\n' + markdown.split('## Results')[1]?.split('##')[0]?.trim());
  } finally {
    children.forEach(stop);
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}

interface Service {
  name: string;
  url: string;
  process: ChildProcess;
}

async function startService(
  name: string,
  env: Record<string, string>,
  nodeFlags: string[] = [],
): Promise<Service> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeFlags, join(ROOT, 'dist/apps/auth-service/src/main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/health/ready`, name);
  return { name, url, process: child };
}

async function startCeiling(): Promise<Service & { rawUrl: string }> {
  const port = await freePort();
  const rawPort = await freePort();
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'ceiling-server.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: String(port), RAW_PORT: String(rawPort) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(url, 'ceiling');
  return { name: 'ceiling', url, rawUrl: `http://127.0.0.1:${rawPort}`, process: child };
}

async function waitHttp(url: string, name: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${name} did not start`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function stop(child: ChildProcess): void {
  if (child.exitCode === null) child.kill('SIGTERM');
}

interface Seed {
  email: string;
  password: string;
  /** Never empty: the registration's session comes first. */
  tokens: [string, ...string[]];
  refreshTokens: string[];
}

async function seedUsers(service: Service, sessions: number): Promise<Seed> {
  const email = `bench.${Date.now()}@example.test`;
  const password = `Bench-${Date.now()}-password`;
  const reg = await post(`${service.url}/api/v1/auth/register`, { email, password, name: 'Bench User' });
  const first = tokensOf(reg);
  const tokens: Seed['tokens'] = [first.accessToken];
  const refreshTokens = [first.refreshToken];
  for (let i = 1; i < sessions; i++) {
    const login = tokensOf(await post(`${service.url}/api/v1/auth/login`, { email, password }));
    tokens.push(login.accessToken);
    refreshTokens.push(login.refreshToken);
  }
  return { email, password, tokens, refreshTokens };
}

/** The tokens of a registration or login answer. */
function tokensOf(answer: Record<string, string>): { accessToken: string; refreshToken: string } {
  const { accessToken, refreshToken } = answer;
  if (accessToken === undefined || refreshToken === undefined) throw new Error('an answer without tokens');
  return { accessToken, refreshToken };
}

async function post(url: string, body: unknown): Promise<Record<string, string>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, string>;
}

function defineTargets(
  s: { cacheOn: Service; cacheOff: Service; ceiling: Service & { rawUrl: string } },
  seed: Seed,
): Target[] {
  const bearer = { authorization: `Bearer ${seed.tokens[0]}` };
  // A refresh token works once, and presenting a used one revokes its session: the chains live
  // across rounds (each response puts the new token back), and session 0, whose access token the
  // read targets use, is never refreshed.
  const refreshPool = seed.refreshTokens.slice(1);
  // The same introspection request for the service and for the two POST references.
  const introspect = (url: string): autocannon.Options => ({
    url,
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: `token=${seed.tokens[0]}`,
  });
  return [
    { name: 'ceiling: bare Fastify JSON', fixed: true, options: () => ({ url: `${s.ceiling.url}/` }) },
    {
      name: '/auth/me (cache on)',
      fixed: true,
      options: () => ({ url: `${s.cacheOn.url}/api/v1/auth/me`, headers: bearer }),
    },
    {
      name: '/auth/me (cache off)',
      fixed: true,
      options: () => ({ url: `${s.cacheOff.url}/api/v1/auth/me`, headers: bearer }),
    },
    {
      name: 'introspection (cache on)',
      fixed: true,
      options: () => introspect(`${s.cacheOn.url}/api/v1/auth/introspect`),
    },
    {
      name: REFERENCE_POST,
      fixed: true,
      options: () => introspect(`${s.ceiling.url}/form`),
    },
    {
      name: REFERENCE_RAW_POST,
      fixed: true,
      options: () => introspect(`${s.ceiling.rawUrl}/`),
    },
    {
      name: 'refresh (rotation)',
      options: () => ({
        url: `${s.cacheOn.url}/api/v1/auth/refresh`,
        requests: [
          {
            method: 'POST',
            path: '/api/v1/auth/refresh',
            headers: { 'content-type': 'application/json' },
            setupRequest: (req: autocannon.Request) => ({
              ...req,
              body: JSON.stringify({ refreshToken: refreshPool.shift() }),
            }),
            onResponse: (status: number, body: string) => {
              if (status === 200)
                refreshPool.push((JSON.parse(body) as { refreshToken: string }).refreshToken);
            },
          },
        ],
        // autocannon may build a request it never sends: keep twice as many chains as connections.
        connections: Math.max(1, Math.floor(refreshPool.length / 2)),
      }),
    },
    {
      name: 'login (argon2id)',
      options: () => ({
        url: `${s.cacheOn.url}/api/v1/auth/login`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: seed.email, password: seed.password }),
        connections: 8,
      }),
    },
  ];
}

/** The introspection request sent to a bare Fastify route that parses the form: POST's own ceiling. */
const REFERENCE_POST = 'reference: bare Fastify form POST';
/** The same, on a bare node:http server: what reading a body costs before any framework. */
const REFERENCE_RAW_POST = 'reference: bare node:http form POST';

function fixedRequest(options: autocannon.Options) {
  return {
    url: String(options.url),
    method: options.method,
    headers: options.headers as Record<string, string> | undefined,
    body: typeof options.body === 'string' ? options.body : undefined,
    connections: options.connections ?? CONNECTIONS,
    durationSeconds: DURATION,
  };
}

async function load(options: autocannon.Options): Promise<LoadResult> {
  const result = await autocannon({ connections: CONNECTIONS, duration: DURATION, ...options });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/**
 * Sum of a metric's series. Not per-request work: the periodic signing-key reload (every 10 s) and
 * PUBLISH (the invalidation channel's heartbeats, 10 a second).
 */
async function metricSum(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter(
      (l) =>
        l.startsWith(name) &&
        !l.startsWith('#') &&
        !l.includes('table="signing_keys"') &&
        !l.includes('operation="publish"'),
    )
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

interface PerRequest {
  requests: number;
  dbQueriesPerRequest: number;
  redisRoundTripsPerRequest: number;
}

/** Queries and Redis round trips per /auth/me at steady state, read from the service's own /metrics. */
async function measurePerRequest(service: Service, token: string): Promise<PerRequest> {
  const before = {
    q: await metricSum(service.url, 'auth_db_queries_total'),
    r: await metricSum(service.url, 'auth_cache_redis_duration_seconds_count'),
  };
  const result = await autocannon({
    url: `${service.url}/api/v1/auth/me`,
    headers: { authorization: `Bearer ${token}` },
    connections: 8,
    amount: 2_000,
  });
  const requests = result.requests.total;
  return {
    requests,
    dbQueriesPerRequest: ((await metricSum(service.url, 'auth_db_queries_total')) - before.q) / requests,
    redisRoundTripsPerRequest:
      ((await metricSum(service.url, 'auth_cache_redis_duration_seconds_count')) - before.r) / requests,
  };
}

interface Mixed {
  meP50: number;
  meP99: number;
  meRps: number;
  loginRps: number;
}

/** /auth/me latency while logins run at their own maximum in the same process. */
async function measureMixed(service: Service, seed: Seed): Promise<Mixed> {
  const [login, me] = await Promise.all([
    autocannon({
      url: `${service.url}/api/v1/auth/login`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: seed.email, password: seed.password }),
      connections: 8,
      duration: DURATION,
    }),
    autocannon({
      url: `${service.url}/api/v1/auth/me`,
      headers: { authorization: `Bearer ${seed.tokens[0]}` },
      connections: 4,
      overallRate: 500,
      duration: DURATION,
    }),
  ]);
  return {
    meP50: me.latency.p50,
    meP99: me.latency.p99,
    meRps: me.requests.average,
    loginRps: login.requests.average,
  };
}

interface ReportRow {
  target: string;
  rps: number;
  p50: number;
  p99: number;
  ratio: number;
  rounds: number;
  failures: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid];
  if (upper === undefined) throw new Error('median of no values');
  return sorted.length % 2 ? upper : (sorted[mid - 1]! + upper) / 2; // an even length ≥ 2: mid ≥ 1
}

function buildReport(samples: Sample[], _perRequest: PerRequest, _mixed: Mixed): { rows: ReportRow[] } {
  const names = [...new Set(samples.map((s) => s.target))];
  // The machine's speed drifts between rounds (other tenants): each round's figure is divided by
  // the same round's ceiling, and the report gives the median of those ratios.
  const ceilingOf = new Map(
    samples.filter((s) => s.target.startsWith('ceiling')).map((s) => [s.round, s.rps]),
  );
  const rows = names.map((target) => {
    const own = samples.filter((s) => s.target === target);
    const rps = median(own.map((s) => s.rps));
    const ratio = median(own.map((s) => s.rps / (ceilingOf.get(s.round) ?? Number.NaN)));
    return {
      target,
      rps,
      p50: median(own.map((s) => s.p50)),
      p99: median(own.map((s) => s.p99)),
      ratio,
      rounds: own.length,
      failures: own.reduce((n, s) => n + s.non2xx + s.errors, 0),
    };
  });
  return { rows };
}

function versions(): string {
  const pkg = (name: string) =>
    (
      JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  const cmd = (c: string, a: string[]) => {
    try {
      return beforeFirst(execFileSync(c, a, { encoding: 'utf8' }).trim(), '\n');
    } catch {
      return 'n/a';
    }
  };
  return [
    `Node ${process.version}`,
    `NestJS ${pkg('@nestjs/core')}`,
    `Fastify ${pkg('fastify')}`,
    `Prisma ${pkg('@prisma/client')}`,
    `ioredis ${pkg('ioredis')}`,
    `autocannon ${pkg('autocannon')}`,
    WRK ?? 'wrk not installed',
    cmd('psql', ['--version']),
    cmd('redis-server', ['--version']).split(' ').slice(0, 3).join(' '),
  ].join(', ');
}

function renderMarkdown(
  report: { rows: ReportRow[] },
  perRequest: PerRequest,
  mixed: Mixed,
  stamp: string,
  profileSummary?: string,
): string {
  const cpu = cpus();
  const meOn = report.rows.find((r) => r.target === '/auth/me (cache on)');
  const meOff = report.rows.find((r) => r.target === '/auth/me (cache off)');
  const introspection = report.rows.find((r) => r.target === 'introspection (cache on)');
  const postReference = report.rows.find((r) => r.target === REFERENCE_POST);
  const rawPostReference = report.rows.find((r) => r.target === REFERENCE_RAW_POST);
  const lines = [
    '# Benchmark results',
    '',
    `Run ${stamp}${smoke ? ' (SMOKE: too short to mean anything)' : ''}. Command: \`${command()}\``,
    `(${ROUNDS} rounds × ${DURATION} s per target, ${CONNECTIONS} connections unless noted; targets alternate order each round; figures are medians over rounds; the ratio to the ceiling is the median of each round's ratio to that round's ceiling).`,
    '',
    `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB. ${WRK ? `Load generator: ${WRK} (one thread) for the fixed requests (ceiling, /auth/me, introspection, the POST references), autocannon for refresh (each request carries the previous answer's token), login and the measurements below` : 'Load generator: autocannon (wrk not installed)'}; it shares the machine with the server.`,
    `Versions: ${versions()}.`,
    '',
    '## Results',
    '',
    '| target | req/s | p50 ms | p99 ms | ratio to ceiling | non-2xx or errors |',
    '|---|---:|---:|---:|---:|---:|',
    ...report.rows.map(
      (r) =>
        `| ${r.target} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${(r.ratio * 100).toFixed(1)} % | ${r.failures} |`,
    ),
    '',
    `- /auth/me at steady state (cache on): ${perRequest.dbQueriesPerRequest.toFixed(3)} database queries and ${perRequest.redisRoundTripsPerRequest.toFixed(3)} Redis round trips per request (${perRequest.requests} requests, from the service's own \`/metrics\`).`,
    introspection && postReference
      ? `- Introspection / the bare Fastify form POST (same request, no auth, no Nest): ${((introspection.rps / postReference.rps) * 100).toFixed(1)} % (reading a request body costs a bare Fastify route ${((1 - postReference.ratio) * 100).toFixed(0)} % of the GET ceiling).`
      : '',
    rawPostReference
      ? `- A bare node:http server reading the same form, no framework at all: ${(rawPostReference.ratio * 100).toFixed(1)} % of the GET ceiling.`
      : '',
    meOn && meOff ? `- Cache on / cache off for /auth/me: ${(meOn.rps / meOff.rps).toFixed(2)}×.` : '',
    `- /auth/me at 500 req/s while logins run at their maximum (8 connections, ${mixed.loginRps.toFixed(1)} logins/s): p50 ${mixed.meP50} ms, p99 ${mixed.meP99} ms.`,
    '',
    '![throughput and p99 per target](results.svg)',
  ];
  if (profileSummary) lines.push('', '## CPU profile of the cache-on service under load', '', profileSummary);
  return lines.filter((l, i, all) => !(l === '' && all[i - 1] === '')).join('\n') + '\n';
}

/** The command that produced the report, with the settings it was given. */
function command(): string {
  const settings = ['BENCH_ROUNDS', 'BENCH_DURATION', 'BENCH_CONNECTIONS', 'BENCH_LOAD_GENERATOR']
    .filter((name) => process.env[name] !== undefined)
    .map((name) => `${name}=${process.env[name]} `)
    .join('');
  const flags = process.argv.slice(2).join(' ');
  return `${settings}npm run bench${flags ? ` -- ${flags}` : ''}`;
}

function summariseLatestProfile(): string | undefined {
  const dir = join(OUT, 'profile');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  const latest = files.at(-1);
  return latest ? summariseProfile(join(dir, latest)) : undefined;
}

main().catch((error: Error) => {
  console.error(`benchmark failed: ${error.message}`);
  children.forEach(stop);
  process.exit(1);
});
