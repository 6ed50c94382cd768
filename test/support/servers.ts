/**
 * Finds (or, when the binary is on this machine, starts) the PostgreSQL and Redis the end-to-end
 * tests need. It never skips: when neither is possible it fails with what to do.
 */
import { ChildProcess, execFileSync, spawn, StdioOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { waitUntil } from './wait-until';

export const DEFAULT_PG_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function canConnectPg(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function canConnectRedis(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The failure reaches the caller through connect(); the event would only print "Unhandled error".
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export function findBinary(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    const roots = existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql').sort().reverse()
      : [];
    return roots.map((v) => `/usr/lib/postgresql/${v}/bin/${name}`).find((p) => existsSync(p));
  }
}

/**
 * A PostgreSQL program (initdb, postgres, pg_basebackup…) of the same installation as initdb
 * (PATH or the Debian layout; PATH may hold symlinks or Debian's version-picking wrappers).
 */
export function postgresBinary(name: string): string | undefined {
  const initdb = findBinary('initdb');
  const sibling = initdb && join(realpathSync(initdb), '..', name);
  return sibling && existsSync(sibling) ? sibling : findBinary(name);
}

/** PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user (runuser). */
function asPostgresUser(bin: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

/** Makes `dir` the PostgreSQL user's, when the tests run as root. */
export function giveToPostgresUser(dir: string): void {
  if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'postgres', dir]);
}

/** Runs a PostgreSQL program to completion (as the postgres user when root); throws on failure. */
export function runPostgresProgram(bin: string, args: string[]): void {
  const [command, argv] = asPostgresUser(bin, args);
  execFileSync(command, argv, { stdio: 'ignore' });
}

/** Starts a long-running PostgreSQL program in its own process group (as the postgres user when root). */
export function spawnPostgresProgram(
  bin: string,
  args: string[],
  stdio: StdioOptions = 'ignore',
): ChildProcess {
  const [command, argv] = asPostgresUser(bin, args);
  return spawn(command, argv, { stdio, detached: true });
}

export interface ThrowawayServer {
  url: string;
  stop(): void;
}

/** A private PostgreSQL cluster in a temp dir, when initdb and postgres are installed. */
export async function startThrowawayPostgres(): Promise<ThrowawayServer | undefined> {
  const initdb = postgresBinary('initdb');
  const postgres = postgresBinary('postgres');
  if (!initdb || !postgres) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'auth-e2e-pg-'));
  giveToPostgresUser(dir);
  runPostgresProgram(initdb, ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  const port = await freePort();
  const args = [
    '-D',
    join(dir, 'data'),
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
  ];
  const child = spawnPostgresProgram(postgres, args);
  child.unref();
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  await waitUntil(() => canConnectPg(url), {
    what: 'the throwaway PostgreSQL',
    timeoutMs: 20_000,
    intervalMs: 200,
  });
  return {
    url,
    stop: () => {
      try {
        process.kill(-child.pid!, 'SIGINT');
      } catch {
        /* already gone */
      }
      setTimeout(() => rmSync(dir, { recursive: true, force: true }), 1_000).unref();
    },
  };
}

/** A private redis-server on a spare port, when the binary is installed. */
export async function startThrowawayRedis(
  extraArgs: string[] = [],
): Promise<(ThrowawayServer & { port: number }) | undefined> {
  const bin = findBinary('redis-server');
  if (!bin) return undefined;
  const port = await freePort();
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs],
    {
      stdio: 'ignore',
      detached: true,
    },
  );
  child.unref();
  const url = `redis://127.0.0.1:${port}`;
  await waitUntil(() => canConnectRedis(url), {
    what: 'the throwaway redis-server',
    timeoutMs: 20_000,
    intervalMs: 200,
  });
  return {
    url,
    port,
    stop: () => {
      try {
        process.kill(child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    },
  };
}

export const HOW_TO_GET_POSTGRES =
  'PostgreSQL is needed by the end-to-end tests. Either set TEST_DATABASE_URL to a server where the user may CREATE DATABASE, ' +
  'start the local one (Debian: `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`), ' +
  'install it (`apt-get install postgresql`) so the tests can start a throwaway cluster, or run `docker compose up -d postgres` ' +
  'and set TEST_DATABASE_URL=postgresql://auth:auth@127.0.0.1:5432/postgres.';

export const HOW_TO_GET_REDIS =
  'Redis is needed by the end-to-end tests. Either set TEST_REDIS_URL, start the local one ' +
  '(`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`), install it (`apt-get install redis-server`) ' +
  'so the tests can start a throwaway one, or run `docker compose up -d redis`.';
