import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * `npm run -s <script> -- <args>` (keys:rotate, keys:withdraw) as an operator runs it, against
 * `databaseUrl` and the run's Redis; `env` adds to (or overrides) that environment. Answers stdout.
 */
export async function runKeyScript(
  script: string,
  args: string[],
  databaseUrl: string,
  env: Record<string, string | undefined>,
): Promise<string> {
  const { stdout } = await promisify(execFile)(
    'npm',
    ['run', '-s', script, ...(args.length ? ['--', ...args] : [])],
    {
      cwd: join(__dirname, '../..'),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: databaseUrl,
        DB_MIGRATE_ON_START: 'false',
        REDIS_URL: process.env.E2E_REDIS_URL,
        LOG_LEVEL: 'error',
        ...env,
      },
      timeout: 60_000,
    },
  );
  return stdout;
}
