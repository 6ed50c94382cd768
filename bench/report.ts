// The benchmark's report: medians over rounds, ratios to the same round's ceiling, and the
// Markdown of bench/RESULTS.md.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { beforeFirst } from '../apps/auth-service/src/common/before-first';
import type { PerRequest } from './measure';
import type { LoadResult } from './wrk';

const ROOT = join(__dirname, '..');

export interface Sample extends LoadResult {
  target: string;
  round: number;
  /** Server CPU (user + system) per answered request, µs. */
  cpuMicros: number;
}

export interface ReportRow {
  target: string;
  rps: number;
  p50: number;
  p99: number;
  ratio: number;
  p99Ratio: number;
  cpuMicros: number;
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

/**
 * One row per target. The machine's speed drifts between rounds (other tenants): each round's
 * figure is divided by the same round's ceiling, and the report gives the median of those ratios.
 */
export function buildRows(samples: Sample[], ceilingName: string): ReportRow[] {
  const names = [...new Set(samples.map((s) => s.target))];
  const ceiling = new Map(samples.filter((s) => s.target === ceilingName).map((s) => [s.round, s]));
  return names.map((target) => {
    const own = samples.filter((s) => s.target === target);
    return {
      target,
      rps: median(own.map((s) => s.rps)),
      p50: median(own.map((s) => s.p50)),
      p99: median(own.map((s) => s.p99)),
      ratio: median(own.map((s) => s.rps / (ceiling.get(s.round)?.rps ?? Number.NaN))),
      p99Ratio: median(own.map((s) => s.p99 / (ceiling.get(s.round)?.p99 ?? Number.NaN))),
      cpuMicros: median(own.map((s) => s.cpuMicros)),
      rounds: own.length,
      failures: own.reduce((n, s) => n + s.non2xx + s.errors, 0),
    };
  });
}

export function versions(wrk: string | undefined): string {
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
    `pino ${pkg('pino')}`,
    `autocannon ${pkg('autocannon')}`,
    wrk ?? 'wrk not installed',
    cmd('psql', ['--version']),
    cmd('redis-server', ['--version']).split(' ').slice(0, 3).join(' '),
  ].join(', ');
}

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
}

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

export function resultsTable(rows: ReportRow[]): string[] {
  return [
    '| target | req/s | p50 ms | p99 ms | ÷ ceiling (req/s) | p99 ÷ ceiling p99 | server CPU µs/req | non-2xx or errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.target} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${fixed(r.ratio, 3)} | ${fixed(r.p99Ratio, 2)} | ${fixed(r.cpuMicros, 0)} | ${r.failures} |`,
    ),
  ];
}

export function perRequestLine(what: string, m: PerRequest): string {
  return `- ${what} at steady state: ${m.dbStatements.toFixed(3)} database statements, ${m.redisCommands.toFixed(3)} Redis commands and ${m.logBytes.toFixed(0)} log bytes per request (${m.requests} requests).`;
}
