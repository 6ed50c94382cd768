// wrk (C, one thread per core) as the load generator where it is installed: autocannon runs in Node
// and, on a small machine, saturates before a bare Fastify route does, which understates the ceiling.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeFirst } from '../apps/auth-service/src/common/before-first';

export interface FixedRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Each request takes the next of these values for this header, in turn (e.g. many users' tokens). */
  rotate?: { header: string; values: string[] };
  /**
   * Each request takes the next line of this file (after `prefix`) for this header, from the start
   * again at its end: for more values than fit in wrk's memory as prepared requests (1M tokens).
   */
  rotateFromFile?: { header: string; prefix: string; path: string };
  connections: number;
  durationSeconds: number;
}

export interface LoadResult {
  /** Requests answered in the run (to divide the server's CPU time by). */
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export function wrkVersion(): string | undefined {
  try {
    // `wrk -v` prints its version and exits 1.
    return execFileSync('wrk', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split(
      '\n',
    )[0];
  } catch (error) {
    const out = String((error as { stdout?: string }).stdout ?? '');
    return out.startsWith('wrk') ? beforeFirst(beforeFirst(out, '\n'), ' [') : undefined;
  }
}

/** One wrk run of a request that never changes (or rotates one header); latencies in milliseconds. */
export async function wrkLoad(request: FixedRequest): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  const script = join(dir, 'request.lua');
  const lines = [`wrk.method = ${JSON.stringify(request.method ?? 'GET')}`];
  if (request.body !== undefined) lines.push(`wrk.body = ${JSON.stringify(request.body)}`);
  for (const [name, value] of Object.entries(request.headers ?? {}))
    lines.push(`wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`);
  if (request.rotate) {
    // Built once per value in init, so the Lua side costs wrk a table lookup per request.
    lines.push(
      `local values = {${request.rotate.values.map((v) => JSON.stringify(v)).join(', ')}}`,
      'local requests, i = {}, 0',
      'init = function(args)',
      '  for n, v in ipairs(values) do',
      `    wrk.headers[${JSON.stringify(request.rotate.header)}] = v`,
      '    requests[n] = wrk.format()',
      '  end',
      'end',
      'request = function() i = i % #requests + 1; return requests[i] end',
    );
  }
  if (request.rotateFromFile) {
    const { header, prefix, path } = request.rotateFromFile;
    lines.push(
      `local file = assert(io.open(${JSON.stringify(path)}, 'r'))`,
      'request = function()',
      "  local line = file:read('*l')",
      "  if not line then file:seek('set'); line = file:read('*l') end",
      `  wrk.headers[${JSON.stringify(header)}] = ${JSON.stringify(prefix)} .. line`,
      '  return wrk.format()',
      'end',
    );
  }
  writeFileSync(script, lines.join('\n') + '\n');
  try {
    const { stdout } = await promisify(execFile)(
      'wrk',
      [
        '-t1',
        `-c${request.connections}`,
        `-d${request.durationSeconds}s`,
        '--latency',
        '-s',
        script,
        request.url,
      ],
      { encoding: 'utf8' },
    );
    return parseWrk(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseWrk(output: string): LoadResult {
  const number = (pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? 0);
  const percentile = (p: string) => {
    const match = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(output);
    if (!match) return Number.NaN;
    const scale = { us: 0.001, ms: 1, s: 1000 }[match[2] as 'us' | 'ms' | 's'];
    return Math.round(Number(match[1]) * scale * 100) / 100;
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requests: number(/(\d+) requests in /),
    rps: number(/Requests\/sec:\s+([\d.]+)/),
    p50: percentile('50'),
    p99: percentile('99'),
    non2xx: number(/Non-2xx or 3xx responses: (\d+)/),
    errors: socket ? socket.slice(1).reduce((n, v) => n + Number(v), 0) : 0,
  };
}
