/**
 * A PostgreSQL primary and a streaming replica for tests: `initdb`, then `pg_basebackup -R` from
 * the running primary into the replica's dir, both `postgres` processes on spare ports under one
 * temp dir, run as the postgres user when the tests run as root (PostgreSQL refuses root).
 */
import { join } from 'node:path';
import { Client } from 'pg';
import {
  canConnectPg,
  freePort,
  giveToPostgresUser,
  postgresBinary,
  runPostgresProgram,
  spawnPostgresProgram,
} from '../servers';
import { onlyRow } from '../present';
import { buildTopology, ServerProcess, TopologyDir, withLogFile } from './processes';
import { waitUntil } from '../wait-until';

const READY_TIMEOUT_MS = 20_000;
const REPLAY_TIMEOUT_MS = 10_000;

export interface PostgresReplication {
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  readonly primary: ServerProcess;
  readonly replica: ServerProcess;
  /** The temp dir holding both data dirs and the logs; removed by `stop()`. */
  readonly dir: string;
  /** Resolves once the replica has replayed everything the primary had written when called. */
  waitForReplay(timeoutMs?: number): Promise<void>;
  /** `pg_wal_replay_pause()`: the replica keeps receiving WAL but stops applying it. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Stops the replica (fast shutdown) and resolves once it has exited. */
  stopReplica(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPostgresReplication(): Promise<PostgresReplication> {
  const initdb = postgresBinary('initdb');
  const basebackup = postgresBinary('pg_basebackup');
  if (!initdb || !basebackup || !postgresBinary('postgres')) {
    throw new Error('initdb, postgres and pg_basebackup are needed (Debian: apt-get install postgresql)');
  }
  return buildTopology('postgres', async (dir) => {
    giveToPostgresUser(dir.path);
    const noSync = '--no-sync';
    runPostgresProgram(initdb, ['-D', join(dir.path, 'primary'), '-U', 'postgres', '--auth=trust', noSync]);
    const primary = await startPostgres(dir, 'primary');
    runPostgresProgram(basebackup, [
      ...[
        '-h',
        '127.0.0.1',
        '-p',
        new URL(primary.url).port,
        '-U',
        'postgres',
        '-D',
        join(dir.path, 'replica'),
      ],
      // -R: standby.signal + primary_conninfo, so the copy starts as a streaming replica.
      ...['-R', '-X', 'stream', '--checkpoint=fast', noSync],
    ]);
    const replica = await startPostgres(dir, 'replica');
    await waitUntil(() => streaming(replica.url), {
      what: 'the replica streaming from the primary',
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
    });
    return replicationTopology(primary, replica, dir);
  });
}

interface RunningPostgres {
  url: string;
  server: ServerProcess;
}

/** `postgres` on the data dir `<dir>/<name>`, a spare port and its socket in the dir. */
async function startPostgres(dir: TopologyDir, name: string): Promise<RunningPostgres> {
  const port = await freePort();
  const args = ['-D', join(dir.path, name), '-p', String(port), '-k', dir.path];
  const settings = ['listen_addresses=127.0.0.1', 'fsync=off', 'full_page_writes=off'];
  const logFile = join(dir.path, `${name}.log`);
  const child = withLogFile(logFile, (stdio) =>
    spawnPostgresProgram(
      postgresBinary('postgres')!,
      [...args, ...settings.flatMap((s) => ['-c', s])],
      stdio,
    ),
  );
  const server = dir.adopt(`postgres ${name}`, child, logFile, 'SIGINT');
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  await waitUntil(
    async () => {
      if (!server.running()) throw new Error(`PostgreSQL ${name} exited at start:\n${server.logTail()}`);
      return canConnectPg(url);
    },
    { what: `PostgreSQL ${name}`, timeoutMs: READY_TIMEOUT_MS, intervalMs: 100 },
  );
  return { url, server };
}

function replicationTopology(
  primary: RunningPostgres,
  replica: RunningPostgres,
  dir: TopologyDir,
): PostgresReplication {
  const replicaState = async <T>(sql: string, params: unknown[] = []) =>
    onlyRow(await query<Record<'value', T>>(replica.url, `SELECT ${sql} AS value`, params)).value;
  return {
    primaryUrl: primary.url,
    replicaUrl: replica.url,
    primary: primary.server,
    replica: replica.server,
    dir: dir.path,
    waitForReplay: async (timeoutMs = REPLAY_TIMEOUT_MS) => {
      const { lsn } = onlyRow(
        await query<{ lsn: string }>(primary.url, 'SELECT pg_current_wal_lsn()::text AS lsn'),
      );
      await waitUntil(
        () => replicaState<boolean>('pg_wal_lsn_diff(pg_last_wal_replay_lsn(), $1::pg_lsn) >= 0', [lsn]),
        { what: `the replica replaying the primary up to ${lsn}`, timeoutMs, intervalMs: 20 },
      );
    },
    pauseReplay: async () => {
      await query(replica.url, 'SELECT pg_wal_replay_pause()');
      // The pause is a request; replay stops at the next record boundary.
      await waitUntil(
        async () => (await replicaState<string>('pg_get_wal_replay_pause_state()')) === 'paused',
        { what: 'replay pausing', timeoutMs: REPLAY_TIMEOUT_MS, intervalMs: 20 },
      );
    },
    resumeReplay: async () => {
      await query(replica.url, 'SELECT pg_wal_replay_resume()');
    },
    stopReplica: () => replica.server.stop(),
    stop: () => dir.stopAll(),
  };
}

async function streaming(url: string): Promise<boolean> {
  const rows = await query<{ status: string }>(url, 'SELECT status FROM pg_stat_wal_receiver').catch(
    () => [],
  );
  return rows[0]?.status === 'streaming';
}

/** One statement on a fresh connection (the harness's checks; tests use their own clients). */
export async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}
