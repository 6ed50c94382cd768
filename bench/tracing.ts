// What tracing costs: /auth/me (the hot path) and /health/live on the built service three ways,
// in alternating rounds with wrk — the tracing code absent (create-app without main.ts's
// instrumentation entry), tracing off (main.ts, no OTEL_* set: the default), tracing on (every
// request sampled, spans exported over OTLP/HTTP to a sink that discards them), and on with 10 %
// of traces sampled. Reports medians of req/s and of CPU per request (user + system time of the
// service process from /proc, divided by the requests served).
//   npm run bench:tracing              writes bench/TRACING.md
//   npm run bench:tracing -- --smoke   a few seconds, proves the script works, writes bench/out/ only
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createDatabase, dropDatabase } from '../test/support/databases';
import { canConnectPg, freePort, HOW_TO_GET_POSTGRES } from '../test/support/servers';
import { waitUntil } from '../test/support/wait-until';
import { wrkLoad, wrkVersion } from './wrk';

const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'dist/apps/auth-service/src');
const smoke = process.argv.includes('--smoke');
const ROUNDS = smoke ? 1 : Number(process.env.BENCH_ROUNDS ?? 5);
const DURATION = smoke ? 1 : Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const TICKS_PER_SECOND = 100; // USER_HZ on Linux: /proc/<pid>/stat counts CPU time in 1/100 s
const children: ChildProcess[] = [];

interface Variant {
  name: string;
  env: Record<string, string>;
  /** Starts create-app directly, without main.ts and so without the instrumentation entry. */
  untraced?: boolean;
}

interface Sample {
  variant: string;
  path: string;
  rps: number;
  cpuUs: number;
  p99: number;
  /** wrk's socket errors (timeouts: answers later than 2 s). */
  errors: number;
}

interface Service {
  variant: Variant;
  url: string;
  pid: number;
}

async function main(): Promise<void> {
  const wrk = wrkVersion();
  if (!wrk) throw new Error('wrk is not installed (apt-get install wrk)');
  const pgAdmin = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  if (!(await canConnectPg(pgAdmin))) throw new Error(`Cannot reach PostgreSQL. ${HOW_TO_GET_POSTGRES}`);
  const sink = await startSink();
  const dbName = `auth_bench_tracing_${Date.now().toString(36)}`;
  const dbUrl = await createDatabase(pgAdmin, dbName);
  try {
    // No Redis: the comparison is of the process's own work, and /auth/me answers from memory.
    const common = {
      DATABASE_URL: dbUrl,
      LOG_LEVEL: 'error',
      NODE_ENV: 'production',
      RATE_LIMIT_ENABLED: 'false',
      APP_URL: 'http://bench.local',
    };
    const otlp = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url };
    const variants: Variant[] = [
      { name: 'tracing code absent', env: { ...common, DB_MIGRATE_ON_START: 'true' }, untraced: true },
      { name: 'tracing off (default)', env: { ...common, DB_MIGRATE_ON_START: 'false' } },
      { name: 'tracing on, all sampled', env: { ...common, ...otlp, DB_MIGRATE_ON_START: 'false' } },
      {
        name: 'tracing on, 10 % sampled',
        env: {
          ...common,
          ...otlp,
          DB_MIGRATE_ON_START: 'false',
          OTEL_TRACES_SAMPLER: 'traceidratio',
          OTEL_TRACES_SAMPLER_ARG: '0.1',
        },
      },
    ];
    const services: Service[] = [];
    // One at a time: the first applies the migrations the others rely on.
    for (const variant of variants) services.push(await startService(variant));
    const token = await seed(services[0]!.url);

    const paths: { path: string; headers: Record<string, string> }[] = [
      { path: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } },
      { path: '/health/live', headers: {} },
    ];
    const samples: Sample[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const shift = round % services.length;
      for (const service of [...services.slice(shift), ...services.slice(0, shift)]) {
        for (const { path, headers } of paths) {
          const before = cpuTicks(service.pid);
          const result = await wrkLoad({
            url: service.url + path,
            headers,
            connections: CONNECTIONS,
            durationSeconds: DURATION,
          });
          const ticks = cpuTicks(service.pid) - before;
          // A refusal would measure something else than the route; socket timeouts under load are counted.
          if (result.non2xx > 0) throw new Error(`${service.variant.name} ${path}: ${result.non2xx} non-2xx`);
          const cpuUs = ((ticks / TICKS_PER_SECOND) * 1e6) / (result.rps * DURATION);
          samples.push({
            variant: service.variant.name,
            path,
            rps: result.rps,
            cpuUs,
            p99: result.p99,
            errors: result.errors,
          });
          console.log(
            `round ${round + 1}/${ROUNDS} ${service.variant.name.padEnd(26)} ${path.padEnd(16)} ${result.rps.toFixed(0).padStart(6)} req/s  ${cpuUs.toFixed(1)} µs CPU/request  p99 ${result.p99} ms`,
          );
        }
      }
    }
    const markdown = report(
      samples,
      variants,
      paths.map((p) => p.path),
      wrk,
    );
    mkdirSync(join(__dirname, 'out'), { recursive: true });
    const file = smoke ? join(__dirname, 'out', 'TRACING.smoke.md') : join(__dirname, 'TRACING.md');
    writeFileSync(file, markdown);
    console.log(`\n${markdown}\nwrote ${file}`);
  } finally {
    children.forEach((c) => c.exitCode === null && c.kill('SIGTERM'));
    await sink.close();
    await dropDatabase(pgAdmin, dbName).catch(() => undefined);
  }
}

/** An OTLP/HTTP endpoint that reads and discards every export, as fast as it can. */
async function startSink(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function startService(variant: Variant): Promise<Service> {
  const port = await freePort();
  const env = { PATH: process.env.PATH ?? '', ...variant.env, PORT: String(port), HOST: '127.0.0.1' };
  const args = variant.untraced
    ? [
        '-e',
        `const { createApp } = require(${JSON.stringify(join(DIST, 'create-app.js'))});
         const { loadConfig } = require(${JSON.stringify(join(DIST, 'config/app-config.js'))});
         const config = loadConfig();
         createApp(config).then((app) => app.listen({ port: config.http.port, host: config.http.host }));`,
      ]
    : [join(DIST, 'main.js')];
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/health/ready`)).ok, {
    what: `${variant.name} answering /health/ready`,
    timeoutMs: 60_000,
    intervalMs: 250,
    retryOnError: true,
  });
  return { variant, url, pid: child.pid! };
}

async function seed(url: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `bench.${Date.now()}@example.test`, password: `Bench-${Date.now()}-pw` }),
  });
  if (!res.ok) throw new Error(`register: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

/** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function report(samples: Sample[], variants: Variant[], paths: string[], wrk: string): string {
  const cpu = cpus();
  const settings = ['BENCH_ROUNDS', 'BENCH_DURATION', 'BENCH_CONNECTIONS']
    .filter((n) => process.env[n] !== undefined)
    .map((n) => `${n}=${process.env[n]} `)
    .join('');
  const lines = [
    '# Tracing: what it costs',
    '',
    `Run ${new Date().toISOString()}${smoke ? ' (SMOKE: too short to mean anything)' : ''}. Command: \`${settings}npm run bench:tracing${smoke ? ' -- --smoke' : ''}\``,
    `(${ROUNDS} rounds × ${DURATION} s per target, ${CONNECTIONS} connections, ${wrk} one thread; the variants alternate order each round; figures are medians over rounds).`,
    `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, shared with the load generator${smoke ? '' : ' and whatever else ran'}. PostgreSQL, no Redis; /auth/me answers from memory after the first request.`,
    '',
    '| variant | route | req/s | CPU µs / request | p99 ms | req/s vs tracing code absent | socket errors |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const path of paths) {
    const base = median(
      samples.filter((s) => s.variant === variants[0]!.name && s.path === path).map((s) => s.rps),
    );
    for (const variant of variants) {
      const own = samples.filter((s) => s.variant === variant.name && s.path === path);
      const rps = median(own.map((s) => s.rps));
      lines.push(
        `| ${variant.name} | \`${path}\` | ${rps.toFixed(0)} | ${median(own.map((s) => s.cpuUs)).toFixed(1)} | ${median(own.map((s) => s.p99))} | ${((rps / base) * 100).toFixed(1)} % | ${own.reduce((n, s) => n + s.errors, 0)} |`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

main().catch((error: Error) => {
  console.error(`tracing benchmark failed: ${error.message}`);
  children.forEach((c) => c.exitCode === null && c.kill('SIGTERM'));
  process.exit(1);
});
