import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support/servers';
import { waitUntil } from './support/wait-until';

const ROOT = join(__dirname, '..');
const MAIN = join(ROOT, 'apps/auth-service/src/main.ts');

/**
 * The real entry point started in a directory of its own, as an operator runs it: the `.env` it
 * reads is that directory's. The TypeScript loader is given the repository's tsconfig explicitly,
 * since it would otherwise look for one in the working directory.
 */
function entryPoint(cwd: string, env: Record<string, string>) {
  return {
    args: ['-r', require.resolve('@swc-node/register'), MAIN],
    options: {
      cwd,
      env: { PATH: process.env.PATH, SWC_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env },
    },
  };
}

function boot(cwd: string, env: Record<string, string>) {
  const { args, options } = entryPoint(cwd, env);
  return spawnSync(process.execPath, args, { ...options, encoding: 'utf8', timeout: 60_000 });
}

describe('boot: .env in the working directory and X_FILE', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'auth-boot-'));
  });
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string, content: string) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };

  it('reads .env, the environment winning, and X_FILE from either: one message for every bad value', () => {
    const password = file('admin-password', 'short\n');
    file(
      '.env',
      [
        'PORT=eighty',
        'JWT_ACCESS_TTL=5',
        'ADMIN_EMAIL=admin@example.com',
        `ADMIN_PASSWORD_FILE=${password}`,
      ].join('\n'),
    );
    const result = boot(dir, { JWT_ACCESS_TTL: '60' });
    expect(result.status).toBe(1);
    const lines = result.stderr.split('\n').filter((l) => l.includes('Invalid configuration'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('PORT'); // from .env
    expect(lines[0]).toContain('ADMIN_PASSWORD must be at least 8 characters'); // read from its file
    expect(lines[0]).not.toContain('JWT_ACCESS_TTL'); // .env's 5 lost to the environment's 60
  });

  it('a missing X_FILE stops the boot naming the variable and the path, before anything starts', () => {
    const missing = join(dir, 'no-such-secret');
    const result = boot(dir, { METRICS_TOKEN_FILE: missing });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      `Invalid configuration: METRICS_TOKEN_FILE names a file that cannot be read: ${missing} (ENOENT)`,
    );
    expect(result.stdout).toBe('');
  });

  it('starts with its database from .env and its signing key from JWT_PRIVATE_KEY_FILE', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const port = await freePort();
    file(
      '.env',
      [
        `DATABASE_URL=${process.env.E2E_DATABASE_URL}`,
        'DB_MIGRATE_ON_START=false',
        `PORT=${port}`,
        'HOST=127.0.0.1',
        'CACHE_WARM_ON_START=false',
        'CACHE_CONSISTENCY_SAMPLE_INTERVAL_MS=0',
        'LOG_LEVEL=silent',
      ].join('\n'),
    );
    const { args, options } = entryPoint(dir, { JWT_PRIVATE_KEY_FILE: file('jwt.pem', pem) });
    const started = spawn(process.execPath, args, { ...options, stdio: 'ignore' });
    child = started;
    const jwks = await waitUntil(
      async () => {
        if (started.exitCode !== null) throw new Error(`the service exited with ${started.exitCode}`);
        const response = await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`).catch(() => undefined);
        return response?.ok ? ((await response.json()) as { keys: { x?: string }[] }) : undefined;
      },
      { timeoutMs: 45_000, what: 'the service started from .env answering /.well-known/jwks.json' },
    );
    const { x } = publicKey.export({ format: 'jwk' });
    expect(jwks?.keys.map((key) => key.x)).toContain(x);
  });
});
