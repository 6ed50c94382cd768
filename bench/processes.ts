// The processes the benchmark starts (the service, the ceilings, a private Redis), and the CPU
// time each has used, read from /proc: the server's own cost per request, whatever the load
// generator beside it costs.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../test/support/servers';

const ROOT = join(__dirname, '..');
const children: ChildProcess[] = [];

export interface Server {
  name: string;
  url: string;
  process: ChildProcess;
  /** Bytes the process wrote to stdout (its log) so far. */
  stdoutBytes: () => number;
}

/** Starts a Node program and waits until `readyPath` answers 2xx. Its stdout is read and counted. */
async function startNode(
  name: string,
  args: string[],
  env: Record<string, string>,
  readyPath = '/',
): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env, PORT: String(port), HOST: '127.0.0.1' },
    // The log goes through a pipe, as into a container runtime, not into /dev/null.
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let bytes = 0;
  child.stdout?.on('data', (chunk: Buffer) => (bytes += chunk.length));
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}${readyPath}`, name);
  return { name, url, process: child, stdoutBytes: () => bytes };
}

export function startService(name: string, env: Record<string, string>, nodeFlags: string[] = []) {
  return startNode(
    name,
    [...nodeFlags, join(ROOT, 'dist/apps/auth-service/src/main.js')],
    env,
    '/health/ready',
  );
}

/** The example consumer as built by `nest build example-consumer`, ready when `/public` answers. */
export function startExampleConsumer(name: string, env: Record<string, string>) {
  return startNode(
    name,
    [join(ROOT, 'dist/example-consumer/apps/example-consumer/src/main.js')],
    env,
    '/public',
  );
}

export function startBenchProgram(name: string, file: string, env: Record<string, string> = {}) {
  return startNode(name, ['-r', '@swc-node/register', join(__dirname, file)], env);
}

async function waitHttp(url: string, name: string): Promise<void> {
  const deadline = Date.now() + 90_000;
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

export function stop(child: ChildProcess): void {
  if (child.exitCode === null) child.kill('SIGTERM');
}

export function stopAll(): void {
  children.forEach(stop);
}

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system) a process has used, in microseconds, from /proc/<pid>/stat. */
export function cpuMicros(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), closed by the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return (ticks / TICKS_PER_SECOND) * 1e6;
  } catch {
    return Number.NaN; // not Linux: the report says n/a
  }
}
