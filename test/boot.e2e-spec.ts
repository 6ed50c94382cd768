import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

/** The real entry point, as `npm start` runs it, refusing a bad configuration. */
describe('boot with a bad configuration', () => {
  it('stops with one message naming every bad variable, and exit code 1', () => {
    const result = spawnSync(
      process.execPath,
      ['-r', '@swc-node/register', 'apps/auth-service/src/main.ts'],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          PORT: 'eighty',
          CACHE_ENABLED: 'perhaps',
          JWT_ACCESS_TTL: '5',
          DATABASE_URL: 'mysql://nope',
        },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(result.status).toBe(1);
    const lines = result.stderr
      .trim()
      .split('\n')
      .filter((l) => l.includes('Invalid configuration'));
    expect(lines).toHaveLength(1);
    for (const name of ['PORT', 'CACHE_ENABLED', 'JWT_ACCESS_TTL', 'DATABASE_URL'])
      expect(lines[0]).toContain(name);
    expect(result.stdout).not.toContain('listening');
  });
});
