// The cost curve's report: bench/CURVE.md.
import type { RedisSeedResult } from './curve-seed';
import { machine, versions } from './report';

interface WarmPass {
  seconds: number;
  /** Entries loaded from PostgreSQL (misses), and Redis calls that failed or overran their budget. */
  loads: number;
  redisErrors: number;
  dbPerRequest: number;
}

export interface CurvePoint {
  sessions: number;
  rps: number;
  p99: number;
  ceilingRps: number;
  ceilingP99: number;
  requests: number;
  /** Requests of the counting run (8 connections), which the per-request figures divide. */
  counted: number;
  redisPerRequest: number;
  /** The service's awaited Redis calls per request. */
  roundTripsPerRequest: number;
  /** Redis calls that failed or overran CACHE_REDIS_TIMEOUT_MS in the counting run (each fell back to PostgreSQL). */
  redisErrors: number;
  /** The same during the throughput run. */
  underLoad: { dbPerRequest: number; roundTripsPerRequest: number; redisErrors: number };
  /** Calls per request of each Redis command. */
  redisByCommand: Record<string, number>;
  dbPerRequest: number;
  /** Statements per request of each auth_db_queries_total series (its labels). */
  dbBySeries: Record<string, number>;
  l1HitRatio: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  /** Entries loaded from PostgreSQL per request in the counting run. */
  loadsPerRequest: number;
  peakRssBytes: number;
  /** MEMORY USAGE (SAMPLES 0) of one cached session, one cached user, one user's tag set. */
  sessionEntryBytes: number;
  userEntryBytes: number;
  tagSetBytes: number;
  /** Redis used_memory after the run less before seeding, per live session (everything included). */
  redisBytesPerSession: number;
  redisKeys: number;
  seedSeconds: number;
  mintSeconds: number;
  warmerSeconds: number;
  /** Up to 100k: the passes of every token once; at 1M: the entries written straight into Redis. */
  warm: WarmPass[] | { seconds: number; direct: RedisSeedResult };
}

const MB = 2 ** 20;

function size(n: number): string {
  return n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n);
}

function breakdown(record: Record<string, number>, digits: number): string {
  const parts = Object.entries(record)
    .filter(([, v]) => v >= 10 ** -digits / 2)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k.toUpperCase()} ${v.toFixed(digits)}`);
  return parts.length ? parts.join(', ') : 'none';
}

function warmText(p: CurvePoint): string {
  const w = p.warm;
  if (!Array.isArray(w))
    return `warmer ${p.warmerSeconds.toFixed(0)} s, then ${w.direct.written} entries it had not cached written straight into Redis in ${w.seconds.toFixed(0)} s (text checked against ${w.direct.checked} service-written sessions and users)`;
  const passes = w.map(
    (x, i) =>
      `pass ${i + 1}: ${x.seconds.toFixed(1)} s, ${x.loads} entries loaded from PostgreSQL, ${x.redisErrors} Redis calls failed or timed out`,
  );
  return `warmer ${p.warmerSeconds.toFixed(0)} s, then every token once (${passes.join('; ')})`;
}

export function renderCurve(
  points: CurvePoint[],
  run: { stamp: string; wrk: string; command: string; duration: number; connections: number },
): string {
  const lines = [
    '# Cost curve: /auth/me over N live sessions',
    '',
    `Run ${run.stamp}. Command: \`${run.command}\` (${run.duration} s of wrk per point and per ceiling run, ${run.connections} connections, one wrk thread).`,
    '',
    `Machine: ${machine()}. Versions: ${versions(run.wrk)}.`,
    '',
    '**Noise.** The machine is shared: other jobs (test suites) ran beside this one, so req/s and p99 move from run to run. Each point is set beside a ceiling run (a bare Fastify GET, `bench/ceiling-server.ts`) made right after it, and the ratio is to that run. The per-request counts, RSS and Redis memory do not depend on the load.',
    '',
    '## How each point is made',
    '',
    '- The service runs with the shipped defaults (only the contract variables set: `DATABASE_URL`, `REDIS_URL` (a private redis-server), `CACHE_KEY_PREFIX`, `NODE_ENV=production`, `APP_URL`, `JWT_AUDIENCE`), restarted for each point.',
    '- Seeding: `TRUNCATE users CASCADE` and `FLUSHALL`, then N users with one live session each, inserted with `INSERT … SELECT FROM unnest($ids::uuid[])` in batches of 20,000 into the real `users` and `sessions` tables (`bench/curve-seed.ts`). Access tokens: minted by the bench with the active key of `signing_keys` (the key the service generated on its first start), the header and claims `AccessTokenService.issue` writes; the first token is checked against the service (200) before anything is measured.',
    `- Warming, as after a deploy: the service's start-up warmer (the ${(50_000).toLocaleString('en')} most recently active sessions and their users), then up to 10k sessions every token once through GET /auth/me (32 at a time; again while a pass still loads over 1% of its entries). At 100k and 1M the entries the warmer left out are written straight into Redis (SET … PX NX, and the user's tag set, as a fill writes them) in a text copied from entries the service wrote, each of those compared byte for byte: a pass of 100k requests on this machine takes longer than a session entry lives (300 s), so passes never reach the steady state the point measures.`,
    "- Load: wrk with a Lua script reading the file of all N tokens, each request the next token (`bench/wrk.ts`, `rotateFromFile`). Two runs per point: a counting run (5 s, 8 connections) for the per-request figures, where a Redis call should not overrun its 50 ms budget (`CACHE_REDIS_TIMEOUT_MS`) for want of CPU (an overrun falls back to PostgreSQL, so an overloaded machine would show database reads that are not the design's), then the throughput run (req/s, p99) at the connections below; each says how many Redis calls failed or timed out.",
    '- Per request: Redis round trips are the service\'s awaited Redis calls (`auth_cache_redis_duration_seconds_count`; the activity SADD is fire-and-forget and pipelined with them, so it is a command but not a round trip); DB statements from the service\'s `auth_db_queries_total` (the signing-key reload left out), Redis commands from the private Redis\'s `INFO commandstats` (PUBLISH heartbeats, INFO and DBSIZE probes left out), L1 hit ratio from `auth_cache_lookups_total{tier="l1"}`, all over the counting run. RSS is `VmRSS` of the service after the run (peak: `VmHWM`). Redis memory per entry is `MEMORY USAGE <key> SAMPLES 0` of the first seeded session\'s entries; "Redis per session" is `used_memory` after the run less before seeding, divided by N.',
    '',
    '## Results',
    '',
    '| live sessions | /auth/me req/s | ÷ ceiling | p99 ms (ceiling) | Redis round trips/req | Redis cmds/req | DB stmts/req | L1 hit ratio | RSS MB (peak) | V8 heap used / total MB | session entry B | user entry B | tag set B | Redis B per session |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...points.map(
      (p) =>
        `| ${size(p.sessions)} | ${p.rps.toFixed(0)} | ${(p.rps / p.ceilingRps).toFixed(3)} | ${p.p99} (${p.ceilingP99}) | ${p.roundTripsPerRequest.toFixed(3)} | ${p.redisPerRequest.toFixed(3)} | ${p.dbPerRequest.toFixed(4)} | ${Number.isNaN(p.l1HitRatio) ? 'n/a' : p.l1HitRatio.toFixed(3)} | ${(p.rssBytes / MB).toFixed(0)} (${(p.peakRssBytes / MB).toFixed(0)}) | ${(p.heapUsedBytes / MB).toFixed(0)} / ${(p.heapTotalBytes / MB).toFixed(0)} | ${p.sessionEntryBytes} | ${p.userEntryBytes} | ${p.tagSetBytes} | ${p.redisBytesPerSession.toFixed(0)} |`,
    ),
    '',
    '## Per point',
    '',
    ...points.flatMap((p) => [
      `- **${size(p.sessions)}**: throughput run ${p.requests} requests in ${run.duration} s (${p.underLoad.roundTripsPerRequest.toFixed(3)} Redis round trips, ${p.underLoad.dbPerRequest.toFixed(4)} DB statements per request, ${p.underLoad.redisErrors} Redis calls failed or timed out); counting run ${p.counted} requests (${p.redisErrors} Redis calls failed or timed out). Entries loaded from PostgreSQL per request: ${p.loadsPerRequest.toFixed(4)}. Redis per request: ${breakdown(p.redisByCommand, 3)}. DB per request: ${breakdown(p.dbBySeries, 4)}. Redis keys ${p.redisKeys}. Seeding ${p.seedSeconds.toFixed(1)} s, minting ${p.mintSeconds.toFixed(1)} s; ${warmText(p)}.`,
    ]),
  ];
  return lines.join('\n') + '\n';
}
