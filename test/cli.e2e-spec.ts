import { PrismaService } from '@app/database';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { expectError, strongPassword, uniqueEmail, UserFactory } from './support/factories';
import { baseEnv, Instance, startInstance } from './support/instance';
import { waitUntil } from './support/wait-until';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'apps/auth-service/src/cli.ts');

jest.setTimeout(120_000);

/** Runs the operator CLI (swc-registered, as `npm run cli` runs the built one) with the run's environment. */
function cli(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['-r', '@swc-node/register', CLI, ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, ...baseEnv(), LOG_LEVEL: 'error' } },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(stdin ?? '');
  });
}

/**
 * The operator CLI against the run's PostgreSQL and Redis, with a service instance running
 * beside it: --help and usage errors, migrate, create and promote an admin, disable a user and
 * revoke their sessions (refused by the running instance), rotate the signing key.
 */
describe('operator CLI', () => {
  let a: Instance;

  beforeAll(async () => {
    a = await startInstance();
  });
  afterAll(async () => {
    await a?.close();
  });

  it('--help lists every command; no command or an unknown one is a usage error (exit 2)', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['migrate', 'create-admin', 'disable-user', 'revoke-sessions', 'rotate-keys']) {
      expect(help.stdout).toContain(command);
    }
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['disable-user'])).code).toBe(2);
    expect((await cli(['--no-such-option'])).code).toBe(2);
  });

  it('migrate: nothing left to apply on the migrated test database', async () => {
    const res = await cli(['migrate']);
    expect(res).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Nothing to apply/) });
  });

  it('create-admin: creates with the password from stdin (refusing a weak one), promotes an existing verified user', async () => {
    const email = uniqueEmail('cli-admin');
    const password = strongPassword();
    const weak = await cli(['create-admin', email, '--password-stdin'], 'password\n');
    expect(weak.code).toBe(1);
    expect(weak.stdout).toBe('');
    const created = await cli(['create-admin', email, '--password-stdin'], `${password}\n`);
    expect(created).toMatchObject({ code: 0, stdout: expect.stringContaining('created') });
    expect(created.stdout + created.stderr).not.toContain(password);
    const admin = await UserFactory.login(a.http, { email, password });
    expect(admin.user.roles).toEqual(['user', 'admin']);

    const user = await UserFactory.register(a.http);
    const unverified = await cli(['create-admin', user.email]);
    expect(unverified).toMatchObject({ code: 1, stderr: expect.stringMatching(/not verified/) });
    await a.app
      .get(PrismaService)
      .user.update({ where: { id: user.tokens.user.id }, data: { emailVerified: true } });
    const promoted = await cli(['create-admin', user.email.toUpperCase()]);
    expect(promoted).toMatchObject({ code: 0, stdout: expect.stringContaining('promoted') });
    const me = await a.http.get('/api/v1/auth/me', { token: user.tokens.accessToken });
    expect(me.body.roles).toEqual(['user', 'admin']);
  });

  it('disable-user (by email) and revoke-sessions (by id): the running instance refuses the sessions', async () => {
    const victim = await UserFactory.register(a.http);
    const revoked = await cli(['revoke-sessions', victim.tokens.user.id]);
    expect(revoked.code).toBe(0);
    // The instance learns of it from the revocation log (within a second or two).
    await waitUntil(
      async () => (await a.http.get('/api/v1/auth/me', { token: victim.tokens.accessToken })).status,
      {
        what: 'the revoked session refused',
        until: (status) => status === 401,
      },
    );
    const disabled = await cli(['disable-user', victim.email]);
    expect(disabled.code).toBe(0);
    expectError(
      await a.http.post('/api/v1/auth/login', { email: victim.email, password: victim.password }),
      403,
      'account_disabled',
    );
    const events = await a.app
      .get(PrismaService)
      .securityEvent.findMany({ where: { userId: victim.tokens.user.id, type: 'user.disabled' } });
    expect(events).toEqual([
      expect.objectContaining({ userAgent: 'auth-service-cli', details: { by: 'cli' } }),
    ]);
    const unknown = await cli(['disable-user', uniqueEmail('nobody')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No user/);
  });

  it('rotate-keys: a new active key, the previous one kept', async () => {
    const prisma = a.app.get(PrismaService);
    const res = await cli(['rotate-keys']);
    expect(res).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Signing key rotated: \S+ -> \S+/) });
    // By the ids the command printed: other suites share this database and rotate keys too.
    const kids = /^Signing key rotated: (\S+) -> (\S+)/.exec(res.stdout)!.slice(1, 3).map(String);
    const keys = await prisma.signingKey.findMany({ where: { kid: { in: kids } } });
    expect(keys.map((key) => key.kid).sort()).toEqual([...kids].sort());
  });
});
