/**
 * The server processes a topology starts, and the temp dir that holds their data, configs and
 * logs. Each process runs in its own process group (a wrapper such as runuser and the server it
 * runs stop together) and is unref'd (a test that forgets `stop()` does not keep Jest alive). Each
 * pid is recorded in the dir, whose name carries the run's id: the e2e global teardown kills
 * whatever a run left behind (a failed test, a worker Jest killed) with `cleanUpTopologies`.
 */
import { ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** True until the process has exited. */
  running(): boolean;
  /** True while any process of its group (a server's children included) is alive. */
  groupAlive(): boolean;
  /**
   * Sends `signal` (default: the process's clean-stop signal) to the whole process group and
   * resolves once every process of the group has exited; SIGKILL follows when they have not within 5 s.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** The last lines of its log, for error messages. */
  logTail(lines?: number): string;
}

const KILL_AFTER_MS = 5_000;
const GROUP_POLL_MS = 20;
const DIR_PREFIX = 'auth-topology-';
const PIDS_FILE = 'pids';

/**
 * Whether a process of the group still runs. A zombie does not count: an orphan's exit is reaped by
 * PID 1, which in some containers never reaps. Without /proc, any member the kernel knows counts.
 */
function groupRunning(pgid: number): boolean {
  if (!existsSync('/proc/self/stat')) return killGroup(pgid, 0);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so parse after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

function killGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every topology dir of one test run carries this tag: the run's id, else this process's. */
function runTag(runId = process.env.E2E_RUN_ID): string {
  return runId ?? `pid${process.pid}`;
}

export class TopologyDir {
  readonly path: string;
  private readonly processes: ServerProcess[] = [];
  private readonly clients: { disconnect(): void }[] = [];

  constructor(kind: string) {
    this.path = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${runTag()}-${kind}-`));
  }

  /** Spawns `command` in its own process group, stdout and stderr appended to `logFile`. */
  start(name: string, command: string, args: string[], logFile: string): ServerProcess {
    return this.adopt(
      name,
      withLogFile(logFile, (stdio) => spawn(command, args, { stdio, detached: true })),
      logFile,
    );
  }

  /**
   * Adopts a child spawned with `detached: true` and logging to `logFile`; `stopSignal` is its clean
   * stop (PostgreSQL: SIGINT, a fast shutdown that releases its shared memory).
   */
  adopt(
    name: string,
    child: ChildProcess,
    logFile: string,
    stopSignal: NodeJS.Signals = 'SIGTERM',
  ): ServerProcess {
    const pid = child.pid;
    if (pid === undefined) throw new Error(`${name} could not be started`);
    appendFileSync(join(this.path, PIDS_FILE), `${pid}\n`);
    child.unref();
    const state = { running: child.exitCode === null && child.signalCode === null };
    const exited = state.running
      ? new Promise<void>((resolve) => child.once('exit', () => resolve())).then(() => {
          state.running = false;
        })
      : Promise.resolve();
    const server: ServerProcess = {
      name,
      pid,
      logFile,
      running: () => state.running,
      groupAlive: () => groupRunning(pid),
      stop: async (signal = stopSignal) => {
        if (!state.running && !groupRunning(pid)) return;
        killGroup(pid, signal);
        const escalation = setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_AFTER_MS);
        await exited;
        // A server's forked children (Redis's replication or save child) can outlive it briefly.
        while (groupRunning(pid)) await new Promise((resolve) => setTimeout(resolve, GROUP_POLL_MS));
        clearTimeout(escalation);
      },
      logTail: (lines = 20) =>
        existsSync(logFile)
          ? readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
          : '',
    };
    this.processes.push(server);
    return server;
  }

  /** A client of the topology's servers, disconnected by `stopAll()` before they stop. */
  closeOnStop<T extends { disconnect(): void }>(client: T): T {
    this.clients.push(client);
    return client;
  }

  /**
   * Disconnects the clients, stops every process in parallel (each awaited even if another fails),
   * then removes the dir.
   */
  async stopAll(): Promise<void> {
    for (const client of this.clients.splice(0)) client.disconnect();
    await Promise.allSettled(this.processes.map((p) => p.stop()));
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Builds a topology in a new dir; when that fails, whatever it had started is stopped and the dir removed. */
export async function buildTopology<T>(kind: string, build: (dir: TopologyDir) => Promise<T>): Promise<T> {
  const dir = new TopologyDir(kind);
  try {
    return await build(dir);
  } catch (error) {
    await dir.stopAll();
    throw error;
  }
}

/** Calls `start` with stdio that appends stdout and stderr to `logFile`. */
export function withLogFile<T>(logFile: string, start: (stdio: ['ignore', number, number]) => T): T {
  const fd = openSync(logFile, 'a');
  try {
    return start(['ignore', fd, fd]);
  } finally {
    closeSync(fd);
  }
}

/**
 * Kills every process group a run's topologies recorded and removes their dirs: what the run's
 * tests left running (they should have stopped them; this is the safety net). Returns how many
 * process groups were still alive.
 */
export function cleanUpTopologies(runId: string): number {
  let leftovers = 0;
  const prefix = `${DIR_PREFIX}${runTag(runId)}-`;
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(prefix))) {
    const dir = join(tmpdir(), name);
    const pidsFile = join(dir, PIDS_FILE);
    const pids = existsSync(pidsFile) ? readFileSync(pidsFile, 'utf8').split('\n').filter(Boolean) : [];
    for (const pid of pids.map(Number)) if (killGroup(pid, 'SIGKILL')) leftovers++;
    rmSync(dir, { recursive: true, force: true });
  }
  return leftovers;
}
