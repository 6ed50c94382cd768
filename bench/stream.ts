// The revocation stream and the auth-client's push mode, measured (issue 18): how many requests a
// consumer validates per second in push mode (no network call per request) against local mode,
// and the revocation-to-refusal delay (from the revoking call's 204 to the consumer's first 401)
// over REVOCATIONS revocations with one service instance, then with two (revoked on the other).
// Shipped defaults everywhere but RATE_LIMIT_ENABLED=false: every login and logout comes from one
// IP, and the per-IP limits would answer 429 long before 400 sessions.
// Run: npm run bench:stream (writes bench/STREAM.md).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDatabase, dropDatabase } from '../test/support/databases';
import { canConnectPg, canConnectRedis, DEFAULT_PG_URL, DEFAULT_REDIS_URL } from '../test/support/servers';
import { Server, startExampleConsumer, startService, stopAll } from './processes';
import { machine } from './report';
import { LoadResult, wrkLoad, wrkVersion } from './wrk';

const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 200);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10);
const ROUNDS = 2;
const CONNECTIONS = 32;
const INTROSPECTION = { id: 'bench', secret: 'bench-introspection-secret-0123456789' };
const COMMAND = 'npm run bench:stream';

interface Stats {
  introspectionRequests: number;
  jwksFetches: number;
  revocationStream: { state: string; eventsReceived: number } | null;
}

async function json<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const post = (url: string, body: unknown, token?: string) =>
  json<{ accessToken: string }>(url, {
    method: 'POST',
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** One revocation on `revoker`, timed from its 204 to the consumer's first 401 (ms). */
async function revocationDelay(
  user: { email: string; password: string },
  signIn: Server,
  revoker: Server,
  consumer: Server,
) {
  const login = await post(`${signIn.url}/api/v1/auth/login`, user);
  if (login.status !== 200) throw new Error(`login answered ${login.status}`);
  const token = login.body.accessToken;
  const probe = () => fetch(`${consumer.url}/push`, { headers: { authorization: `Bearer ${token}` } });
  const before = await probe();
  await before.text();
  if (before.status !== 200) throw new Error(`the consumer refused a fresh token: ${before.status}`);
  const logout = await post(`${revoker.url}/api/v1/auth/logout`, undefined, token);
  const revokedAt = performance.now();
  if (logout.status !== 204) throw new Error(`logout answered ${logout.status}`);
  for (;;) {
    const res = await probe();
    await res.text();
    if (res.status === 401) return performance.now() - revokedAt;
    if (performance.now() - revokedAt > 10_000) throw new Error('not refused within 10 s');
  }
}

async function delays(
  label: string,
  user: { email: string; password: string },
  signIn: Server,
  revoker: Server,
  consumer: Server,
) {
  const samples: number[] = [];
  for (let i = 0; i < REVOCATIONS; i++) samples.push(await revocationDelay(user, signIn, revoker, consumer));
  const sorted = [...samples].sort((a, b) => a - b);
  const row = {
    label,
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1)!,
  };
  console.log(
    `${label}: p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms, max ${row.max.toFixed(1)} ms`,
  );
  return row;
}

async function main(): Promise<void> {
  const pgAdmin = process.env.BENCH_DATABASE_URL ?? DEFAULT_PG_URL;
  const redisUrl = process.env.BENCH_REDIS_URL ?? DEFAULT_REDIS_URL;
  if (!(await canConnectPg(pgAdmin)) || !(await canConnectRedis(redisUrl)))
    throw new Error('PostgreSQL and Redis are needed (BENCH_DATABASE_URL, BENCH_REDIS_URL)');
  const runId = Date.now().toString(36);
  const dbName = `auth_bench_stream_${runId}`;
  const dbUrl = await createDatabase(pgAdmin, dbName);
  try {
    const env = {
      DATABASE_URL: dbUrl,
      REDIS_URL: redisUrl,
      CACHE_KEY_PREFIX: `bench_stream_${runId}`,
      NODE_ENV: 'production',
      INTROSPECTION_CLIENTS: `${INTROSPECTION.id}:${INTROSPECTION.secret}`,
      APP_URL: 'http://bench.local',
      JWT_AUDIENCE: 'auth-service',
      RATE_LIMIT_ENABLED: 'false',
    };
    const a = await startService('auth A', env);
    const consumer = await startExampleConsumer('consumer', {
      AUTH_URL: a.url,
      AUTH_ISSUER: 'http://bench.local',
      AUTH_AUDIENCE: 'auth-service',
      INTROSPECTION_CLIENT_ID: INTROSPECTION.id,
      INTROSPECTION_CLIENT_SECRET: INTROSPECTION.secret,
    });
    const stats = async () => (await json<Stats>(`${consumer.url}/auth-stats`)).body;
    const user = { email: `bench.${runId}@example.test`, password: `Bench-${runId}-Tr0ub4dor!` };
    const registered = await post(`${a.url}/api/v1/auth/register`, user);
    if (registered.status !== 201) throw new Error(`register answered ${registered.status}`);
    const token = registered.body.accessToken;
    for (let i = 0; i < 100 && (await stats()).revocationStream?.state !== 'live'; i++)
      await new Promise((r) => setTimeout(r, 100));

    console.log('throughput: local vs push…');
    const load: Record<'local' | 'push', LoadResult[]> = { local: [], push: [] };
    await fetch(`${consumer.url}/push`, { headers: { authorization: `Bearer ${token}` } });
    const before = await stats();
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 ? (['push', 'local'] as const) : (['local', 'push'] as const)) {
        const result = await wrkLoad({
          url: `${consumer.url}/${mode}`,
          headers: { authorization: `Bearer ${token}` },
          connections: CONNECTIONS,
          durationSeconds: LOAD_SECONDS,
        });
        load[mode].push(result);
        console.log(
          `${mode}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms, non-2xx ${result.non2xx}`,
        );
      }
    }
    const after = await stats();
    const calls =
      after.introspectionRequests - before.introspectionRequests + (after.jwksFetches - before.jwksFetches);
    const pushRequests = load.push.reduce((n, r) => n + r.requests, 0);

    console.log(`revocation-to-refusal, one instance (${REVOCATIONS} revocations)…`);
    const one = await delays('one instance: revoked on A, the consumer follows A', user, a, a, consumer);
    const b = await startService('auth B', { ...env, DB_MIGRATE_ON_START: 'false' });
    console.log(`revocation-to-refusal, two instances (${REVOCATIONS} revocations)…`);
    const two = await delays('two instances: revoked on B, the consumer follows A', user, a, b, consumer);
    const final = await stats();

    const median = (rs: LoadResult[]) => [...rs].sort((x, y) => x.rps - y.rps).at(-1)!;
    const fmt = (n: number) => n.toFixed(1);
    const lines = [
      '# Revocation stream and push mode: measured',
      '',
      `Command: \`${COMMAND}\` (bench/stream.ts; \`BENCH_REVOCATIONS\`, \`BENCH_LOAD_SECONDS\` to change the run).`,
      `Machine: ${machine()}, Node ${process.version}, ${wrkVersion() ?? 'wrk'}; PostgreSQL and Redis local; the`,
      'service (dist, shipped defaults but `RATE_LIMIT_ENABLED=false`: every login comes from one IP) and the',
      'example consumer (dist, auth-client defaults: `push.maxStaleMs` 5 000, `whenDown` strict) are separate',
      'processes, the load generator too. Measured on a shared machine (other jobs were running): read the',
      'figures as orders of magnitude and ratios.',
      '',
      `## Validation rate (wrk, ${CONNECTIONS} connections, ${LOAD_SECONDS} s × ${ROUNDS} rounds, alternating; the better round)`,
      '',
      '| consumer route | req/s | p50 ms | p99 ms | non-2xx |',
      '|---|---:|---:|---:|---:|',
      ...(['local', 'push'] as const).map((mode) => {
        const r = median(load[mode]);
        return `| \`/${mode}\` | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.non2xx + r.errors} |`;
      }),
      '',
      `Network calls made by the consumer during the ${pushRequests} push requests (and the local ones):`,
      `${calls} (introspection requests + JWKS fetches, from its \`stats()\`); the stream stayed \`${after.revocationStream?.state}\`.`,
      '',
      `## Revocation-to-refusal delay (${REVOCATIONS} revocations each)`,
      '',
      "From the logout's 204 to the consumer's first 401 on that token (the consumer is probed back to back).",
      '',
      '| setup | n | p50 ms | p99 ms | max ms |',
      '|---|---:|---:|---:|---:|',
      ...[one, two].map((r) => `| ${r.label} | ${r.n} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} |`),
      '',
      `Goal: p99 under 250 ms: ${one.p99 < 250 && two.p99 < 250 ? 'met' : 'NOT met'}. Events received by the consumer: ${final.revocationStream?.eventsReceived}.`,
      '',
    ];
    writeFileSync(join(__dirname, 'STREAM.md'), lines.join('\n'));
    console.log(lines.join('\n'));
  } finally {
    stopAll();
    await new Promise((r) => setTimeout(r, 500));
    await dropDatabase(pgAdmin, dbName).catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  stopAll();
  process.exit(1);
});
