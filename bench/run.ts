// The benchmark: starts the service with the shipped defaults (info logging to a pipe, rate limits
// on, cache on) on a real PostgreSQL and a private Redis, next to three references (a bare Fastify
// GET route, the ceiling; a bare Fastify and a bare node:http form POST; one NestJS + Fastify GET
// route), seeds users and sessions, loads each target in alternating rounds and writes medians,
// ratios to the ceiling, p99, the server's CPU per request and a chart.
//   npm run bench                  full run, writes bench/RESULTS.md and bench/results.svg
//   npm run bench -- --extra       also the other configurations (cache off; logging and limits off)
//   npm run bench -- --smoke       a few seconds, proves the script works (CI), writes bench/out/ only
//   npm run bench -- --profile     also records a CPU profile of the defaults service under load
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { createDatabase, dropDatabase } from '../test/support/databases';
import {
  canConnectPg,
  canConnectRedis,
  freePort,
  HOW_TO_GET_POSTGRES,
  HOW_TO_GET_REDIS,
  startThrowawayRedis,
} from '../test/support/servers';
import { renderChart } from './chart';
import { measurePerRequest, PerRequest } from './measure';
import { cpuMicros, Server, startBenchProgram, startService, stop, stopAll } from './processes';
import { summariseProfile } from './profile-summary';
import { apiResponseHeaders } from '../apps/auth-service/src/bootstrap/security';
import { buildRows, machine, perRequestLine, ReportRow, resultsTable, Sample, versions } from './report';
import { LoadResult, wrkLoad, wrkVersion } from './wrk';

const OUT = join(__dirname, 'out');
const args = new Set(process.argv.slice(2));
const smoke = args.has('--smoke');
const profile = args.has('--profile');
const extra = args.has('--extra');
const ROUNDS = smoke ? 1 : Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = smoke ? 1 : Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const USERS = smoke ? 4 : 64;
const INTROSPECTION = { id: 'bench', secret: 'bench-introspection-secret-0123456789' };
// wrk where installed (BENCH_LOAD_GENERATOR=autocannon to compare), for requests that never change.
const WRK = process.env.BENCH_LOAD_GENERATOR === 'autocannon' ? undefined : wrkVersion();
const basic = `Basic ${Buffer.from(`${INTROSPECTION.id}:${INTROSPECTION.secret}`).toString('base64')}`;

const CEILING = 'ceiling: bare Fastify GET, small JSON';
const REFERENCE_POST = 'reference: bare Fastify form POST';
const REFERENCE_RAW_POST = 'reference: bare node:http form POST';
const REFERENCE_NEST = 'reference: NestJS + Fastify, one GET route';
const REFERENCE_FLOOR = "reference: bare Fastify GET + the defaults' per-answer work";
const REFERENCE_POST_FLOOR = "reference: bare Fastify form POST + the defaults' per-answer work";
const ME = '/auth/me (defaults)';
const INTROSPECT = 'introspection (defaults)';
const LOGIN = 'login (argon2id, limits off)';
const LOGIN_WEBHOOKS = 'login (argon2id, limits off, each event delivered to a webhook)';
const REFRESH = 'refresh (rotation, defaults)';

interface Target {
  name: string;
  server: Server;
  options: () => autocannon.Options;
  /** Each request carries the next of these bearer tokens (wrk only). */
  rotateTokens?: string[];
  /** The same request every time (or one rotated header): wrk can send it. */
  fixed?: boolean;
}

interface Seed {
  email: string;
  password: string;
  /** Access tokens of one user's sessions; never empty: the registration's session comes first. */
  tokens: [string, ...string[]];
  refreshTokens: string[];
  /** One access token per user, user 0's first. */
  userTokens: string[];
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const pgAdmin = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  if (!(await canConnectPg(pgAdmin)))
    throw new Error(`Cannot reach PostgreSQL at BENCH_DATABASE_URL. ${HOW_TO_GET_POSTGRES}`);
  // A private Redis where installed: its command counts are the service's alone.
  const privateRedis = process.env.BENCH_REDIS_URL ? undefined : await startThrowawayRedis();
  const redisUrl = process.env.BENCH_REDIS_URL ?? privateRedis?.url ?? 'redis://127.0.0.1:6379';
  if (!(await canConnectRedis(redisUrl)))
    throw new Error(`Cannot reach Redis at BENCH_REDIS_URL. ${HOW_TO_GET_REDIS}`);

  const runId = Date.now().toString(36);
  const dbName = `auth_bench_${runId}`;
  const dbUrl = await createDatabase(pgAdmin, dbName);
  const prefix = `bench_${runId}`;
  const redis = new Redis(redisUrl);

  try {
    // Only what a deployment must set (the contract's variables); everything else is the default.
    const defaults = {
      DATABASE_URL: dbUrl,
      REDIS_URL: redisUrl,
      CACHE_KEY_PREFIX: prefix,
      NODE_ENV: 'production',
      INTROSPECTION_CLIENTS: `${INTROSPECTION.id}:${INTROSPECTION.secret}`,
      APP_URL: 'http://bench.local',
      JWT_AUDIENCE: 'auth-service',
    };
    const service = await startService(
      'auth (defaults)',
      defaults,
      profile ? ['--cpu-prof', `--cpu-prof-dir=${join(OUT, 'profile')}`] : [],
    );
    // All load comes from one IP: logins past the per-IP limit would answer 429 instead of
    // measuring argon2. This sibling (same database and Redis) seeds users and runs the logins.
    const limitsOff = await startService('auth (limits off)', {
      ...defaults,
      RATE_LIMIT_ENABLED: 'false',
      DB_MIGRATE_ON_START: 'false',
    });
    const [rawPort, floorPort] = [await freePort(), await freePort()];
    const ceiling = await startBenchProgram('ceiling', 'ceiling-server.ts', {
      RAW_PORT: String(rawPort),
      FLOOR_PORT: String(floorPort),
    });
    const rawPostUrl = `http://127.0.0.1:${rawPort}/`;
    const floorUrl = `http://127.0.0.1:${floorPort}/api/v1/auth/me`;
    const postFloorUrl = `http://127.0.0.1:${floorPort}/api/v1/auth/introspect`;
    const nest = await startBenchProgram('nest ceiling', 'nest-ceiling.ts');
    const extras = extra ? await startExtras(defaults, rawPostUrl) : undefined;

    console.log('seeding users and sessions…');
    const seed = await seedUsers(limitsOff, USERS);
    const targets = defineTargets(
      { service, limitsOff, ceiling, rawPostUrl, floorUrl, postFloorUrl, nest, extras },
      seed,
    );

    const samples: Sample[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const shift = round % targets.length;
      for (const target of [...targets.slice(shift), ...targets.slice(0, shift)]) {
        const cpuBefore = cpuMicros(target.server.process.pid);
        const result = await runLoad(target);
        const cpu = (cpuMicros(target.server.process.pid) - cpuBefore) / result.requests;
        samples.push({ target: target.name, round, ...result, cpuMicros: cpu });
        console.log(
          `round ${round + 1}/${ROUNDS}  ${target.name.padEnd(44)} ${result.rps.toFixed(0).padStart(7)} req/s  p99 ${result.p99} ms  ${cpu.toFixed(0)} µs CPU/req`,
        );
      }
    }

    const bearer = { authorization: `Bearer ${seed.tokens[0]}` };
    const perMe = await measurePerRequest(service, { path: '/api/v1/auth/me', headers: bearer }, redis);
    const perIntrospect = await measurePerRequest(
      service,
      { path: '/api/v1/auth/introspect', method: 'POST', ...introspectRequest(seed.tokens[0]) },
      redis,
    );
    const mixed = await measureMixed(limitsOff, seed);

    if (profile) {
      stop(service.process);
      await new Promise((r) => setTimeout(r, 1_500));
    }
    const profileSummary = profile ? summariseLatestProfile() : undefined;

    const rows = buildRows(samples, CEILING);
    const stamp = new Date().toISOString();
    writeFileSync(
      join(OUT, `raw-${runId}.json`),
      JSON.stringify({ stamp, smoke, samples, perMe, perIntrospect, mixed }, null, 2),
    );
    const markdown = renderMarkdown(rows, { perMe, perIntrospect, mixed }, stamp, profileSummary);
    const svg = renderChart(rows.map((r) => ({ name: r.target, rps: r.rps, p99: r.p99 })));
    if (smoke) {
      writeFileSync(join(OUT, 'RESULTS.smoke.md'), markdown);
      writeFileSync(join(OUT, 'results.smoke.svg'), svg);
      console.log(`\nsmoke run OK: ${samples.length} measurements; report in bench/out/RESULTS.smoke.md`);
    } else {
      writeFileSync(join(__dirname, 'RESULTS.md'), markdown);
      writeFileSync(join(__dirname, 'results.svg'), svg);
      console.log('\nwrote bench/RESULTS.md and bench/results.svg');
    }
    console.log('\n' + markdown.split('## Results')[1]?.split('\n## ')[0]?.trim());
  } finally {
    stopAll();
    redis.disconnect();
    privateRedis?.stop();
    await dropDatabase(pgAdmin, dbName).catch(() => undefined);
    if (!privateRedis) await dropKeys(redisUrl, prefix);
  }
}

/** The other configurations, with --extra: cache off, and logging and rate limits off. */
/** `webhookReceiver`: answers 200 to any POST (the raw node:http reference), as a webhook endpoint. */
async function startExtras(defaults: Record<string, string>, webhookReceiver: string) {
  return {
    webhooks: await startService('auth (webhooks on, limits off)', {
      ...defaults,
      RATE_LIMIT_ENABLED: 'false',
      DB_MIGRATE_ON_START: 'false',
      WEBHOOK_URLS: webhookReceiver,
      WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
    }),
    cacheOff: await startService('auth (cache off)', {
      ...defaults,
      CACHE_ENABLED: 'false',
      DB_MIGRATE_ON_START: 'false',
    }),
    quiet: await startService('auth (quiet)', {
      ...defaults,
      LOG_LEVEL: 'error',
      RATE_LIMIT_ENABLED: 'false',
      DB_MIGRATE_ON_START: 'false',
    }),
  };
}

async function dropKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}

async function runLoad(target: Target): Promise<LoadResult> {
  const options = target.options();
  if (WRK && target.fixed) {
    return wrkLoad({
      url: String(options.url),
      method: options.method,
      headers: options.headers as Record<string, string> | undefined,
      body: typeof options.body === 'string' ? options.body : undefined,
      rotate: target.rotateTokens && {
        header: 'authorization',
        values: target.rotateTokens.map((t) => `Bearer ${t}`),
      },
      connections: options.connections ?? CONNECTIONS,
      durationSeconds: DURATION,
    });
  }
  if (target.rotateTokens) throw new Error(`${target.name} needs wrk`);
  const result = await autocannon({ connections: CONNECTIONS, duration: DURATION, ...options });
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function seedUsers(service: Server, users: number): Promise<Seed> {
  const stamp = Date.now();
  const email = `bench.${stamp}@example.test`;
  const password = `Bench-${stamp}-password`;
  const first = tokensOf(
    await post(`${service.url}/api/v1/auth/register`, { email, password, name: 'Bench' }),
  );
  const tokens: Seed['tokens'] = [first.accessToken];
  const refreshTokens = [first.refreshToken];
  // User 0's other sessions: the refresh chains.
  for (let i = 1; i < users; i++) {
    const login = tokensOf(await post(`${service.url}/api/v1/auth/login`, { email, password }));
    tokens.push(login.accessToken);
    refreshTokens.push(login.refreshToken);
  }
  const userTokens = [first.accessToken];
  for (let i = 1; i < users; i++) {
    const other = { email: `bench.${stamp}.${i}@example.test`, password, name: `Bench ${i}` };
    userTokens.push(tokensOf(await post(`${service.url}/api/v1/auth/register`, other)).accessToken);
  }
  return { email, password, tokens, refreshTokens, userTokens };
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

/** The introspection request, the same for the service and for the two POST references. */
function introspectRequest(token: string) {
  return {
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: `token=${token}`,
  };
}

function defineTargets(
  s: {
    service: Server;
    limitsOff: Server;
    ceiling: Server;
    rawPostUrl: string;
    floorUrl: string;
    postFloorUrl: string;
    nest: Server;
    extras?: { cacheOff: Server; quiet: Server; webhooks: Server };
  },
  seed: Seed,
): Target[] {
  const bearer = { authorization: `Bearer ${seed.tokens[0]}` };
  const introspect = (url: string): autocannon.Options => ({
    url,
    method: 'POST',
    ...introspectRequest(seed.tokens[0]),
  });
  const loginOptions = (server: Server): autocannon.Options => ({
    url: `${server.url}/api/v1/auth/login`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: seed.email, password: seed.password }),
  });
  const me = (server: Server): autocannon.Options => ({
    url: `${server.url}/api/v1/auth/me`,
    headers: bearer,
  });
  // A refresh token works once, and presenting a used one revokes its session: the chains live
  // across rounds (each response puts the new token back), and session 0, whose access token the
  // read targets use, is never refreshed.
  const refreshPool = seed.refreshTokens.slice(1);
  const targets: Target[] = [
    { name: CEILING, server: s.ceiling, fixed: true, options: () => ({ url: `${s.ceiling.url}/` }) },
    {
      name: REFERENCE_POST,
      server: s.ceiling,
      fixed: true,
      options: () => introspect(`${s.ceiling.url}/form`),
    },
    { name: REFERENCE_RAW_POST, server: s.ceiling, fixed: true, options: () => introspect(s.rawPostUrl) },
    { name: REFERENCE_NEST, server: s.nest, fixed: true, options: () => ({ url: `${s.nest.url}/` }) },
    {
      name: REFERENCE_FLOOR,
      server: s.ceiling,
      fixed: true,
      options: () => ({ url: s.floorUrl, headers: bearer }),
    },
    {
      name: REFERENCE_POST_FLOOR,
      server: s.ceiling,
      fixed: true,
      options: () => introspect(s.postFloorUrl),
    },
    { name: ME, server: s.service, fixed: true, options: () => me(s.service) },
    {
      name: `/auth/me (${seed.userTokens.length} users' tokens in turn, defaults)`,
      server: s.service,
      fixed: true,
      rotateTokens: seed.userTokens,
      options: () => ({ url: `${s.service.url}/api/v1/auth/me` }),
    },
    {
      name: INTROSPECT,
      server: s.service,
      fixed: true,
      options: () => introspect(`${s.service.url}/api/v1/auth/introspect`),
    },
    {
      name: REFRESH,
      server: s.service,
      options: () => ({
        url: `${s.service.url}/api/v1/auth/refresh`,
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
      name: LOGIN,
      server: s.limitsOff,
      options: () => ({ ...loginOptions(s.limitsOff), connections: 8 }),
    },
  ];
  if (s.extras) {
    const { cacheOff, quiet, webhooks } = s.extras;
    targets.push(
      {
        name: LOGIN_WEBHOOKS,
        server: webhooks,
        options: () => ({ ...loginOptions(webhooks), connections: 8 }),
      },
      { name: '/auth/me (CACHE_ENABLED=false)', server: cacheOff, fixed: true, options: () => me(cacheOff) },
      {
        name: '/auth/me (LOG_LEVEL=error, limits off)',
        server: quiet,
        fixed: true,
        options: () => me(quiet),
      },
      {
        name: 'introspection (LOG_LEVEL=error, limits off)',
        server: quiet,
        fixed: true,
        options: () => introspect(`${quiet.url}/api/v1/auth/introspect`),
      },
    );
  }
  return targets;
}

interface Mixed {
  meP50: number;
  meP99: number;
  meRps: number;
  loginRps: number;
}

/** /auth/me latency while logins run at their own maximum in the same process. */
async function measureMixed(service: Server, seed: Seed): Promise<Mixed> {
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

function renderMarkdown(
  rows: ReportRow[],
  m: { perMe: PerRequest; perIntrospect: PerRequest; mixed: Mixed },
  stamp: string,
  profileSummary?: string,
): string {
  const row = (name: string) => rows.find((r) => r.target === name);
  const [me, introspection, postReference, login, refresh, floor, loginWebhooks, postFloor] = [
    ME,
    INTROSPECT,
    REFERENCE_POST,
    LOGIN,
    REFRESH,
    REFERENCE_FLOOR,
    LOGIN_WEBHOOKS,
    REFERENCE_POST_FLOOR,
  ].map(row);
  const perCore = (r: ReportRow | undefined) => (r ? (1e6 / r.cpuMicros).toFixed(0) : 'n/a');
  const lines = [
    '# Benchmark results',
    '',
    `Run ${stamp}${smoke ? ' (SMOKE: too short to mean anything)' : ''}. Command: \`${command()}\``,
    `(${ROUNDS} rounds × ${DURATION} s per target, ${CONNECTIONS} connections unless noted; targets alternate order each round; figures are medians over rounds; each ratio is the median of each round's ratio to that round's ceiling).`,
    '',
    `Machine: ${machine()}. ${WRK ? `Load generator: ${WRK} (one thread) for the fixed requests, autocannon for refresh (each request carries the previous answer's token) and login` : 'Load generator: autocannon (wrk not installed)'}; it shares the machine with the servers.`,
    `Versions: ${versions(WRK)}.`,
    '',
    'The service runs with the shipped defaults: info logging (to a pipe the benchmark reads), rate limits on, cache on. Set: `DATABASE_URL`, `REDIS_URL` (a private redis-server where installed), `CACHE_KEY_PREFIX`, `NODE_ENV=production`, `INTROSPECTION_CLIENTS`, `APP_URL`, `JWT_AUDIENCE`, `PORT`, `HOST`. The login row runs on a sibling with `RATE_LIMIT_ENABLED=false` (all load comes from one IP), which also seeds the users.',
    '',
    '## Results',
    '',
    ...resultsTable(rows),
    '',
    perRequestLine('/auth/me (defaults)', m.perMe),
    perRequestLine('Introspection (defaults)', m.perIntrospect),
    introspection && postReference
      ? `- Introspection ÷ the bare Fastify form POST (same request, no auth, no Nest): ${(introspection.ratio / postReference.ratio).toFixed(3)}.`
      : '',
    me
      ? `- /auth/me ÷ the ceiling: ${me.ratio.toFixed(3)}; p99 ${me.p99Ratio.toFixed(2)} × the ceiling's.`
      : '',
    me && floor
      ? `- The floor (the ceiling's route plus the defaults' per-answer work, with the service's own code: its ${Object.keys(apiResponseHeaders()).length + 1} response headers, an access-log line to the pipe, the HTTP duration metric) runs at ${floor.ratio.toFixed(3)} of the ceiling, ${floor.cpuMicros.toFixed(0)} µs CPU per request; /auth/me ÷ the floor: ${(me.ratio / floor.ratio).toFixed(3)}.`
      : '',
    introspection && postFloor && postReference
      ? `- The form POST's floor (the bare form POST plus the same per-answer work) runs at ${(postFloor.ratio / postReference.ratio).toFixed(3)} of the bare form POST, ${postFloor.cpuMicros.toFixed(0)} µs CPU per request; introspection ÷ that floor: ${(introspection.ratio / postFloor.ratio).toFixed(3)} (${introspection.cpuMicros.toFixed(0)} µs CPU per request).`
      : '',
    `- Per CPU core (1 s ÷ the server's CPU per request): ${perCore(login)} logins/s, ${perCore(refresh)} refreshes/s at the default argon2id parameters; Keycloak's published sizing is 15 password logins/s and 120 refreshes/s per vCPU.`,
    login && loginWebhooks
      ? `- Login with its security events delivered to a webhook (\`--extra\`; the events are recorded on every login either way): ${loginWebhooks.rps.toFixed(1)} req/s and ${loginWebhooks.cpuMicros.toFixed(0)} µs CPU per login, beside ${login.rps.toFixed(1)} req/s and ${login.cpuMicros.toFixed(0)} µs without webhooks (${((loginWebhooks.rps / login.rps - 1) * 100).toFixed(1)} % req/s).`
      : '',
    `- /auth/me at 500 req/s while logins run at their maximum in the same process (limits-off sibling, 8 connections, ${m.mixed.loginRps.toFixed(1)} logins/s): p50 ${m.mixed.meP50} ms, p99 ${m.mixed.meP99} ms.`,
    '',
    '![throughput and p99 per target](results.svg)',
  ];
  if (profileSummary) lines.push('', '## CPU profile of the defaults service under load', '', profileSummary);
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
  stopAll();
  process.exit(1);
});
