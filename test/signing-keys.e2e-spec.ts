import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader, JWK } from 'jose';
import { Client } from 'pg';
import { runKeyScript } from './support/key-script';
import { createMigratedDatabase, dropDatabase, e2eAdminUrl } from './support/databases';
import { expectError, UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';

jest.setTimeout(90_000);

/** Every running instance reloads its keys this often (signing-keys.service.ts). */
const RELOAD_INTERVAL_MS = 10_000;
const kidOf = (token: string) => decodeProtectedHeader(token).kid!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Signing keys at rest and `npm run keys:withdraw`, on a database of their own (other suites
 * share the run's database and its active key).
 */
describe('signing keys: encrypted at rest, withdrawn when leaked', () => {
  const dbName = `auth_e2e_${process.env.E2E_RUN_ID}_seckeys`;
  const KEK = randomBytes(32).toString('base64');
  let dbUrl: string;
  let env: Record<string, string>;
  const instances: Instance[] = [];
  const start = async (extra: Record<string, string> = {}) => {
    const instance = await startInstance({ ...env, ...extra });
    instances.push(instance);
    return instance;
  };
  const sql = async <T>(query: string): Promise<T[]> => {
    const client = new Client({ connectionString: dbUrl });
    await client.connect();
    try {
      return (await client.query(query)).rows as T[];
    } finally {
      await client.end();
    }
  };
  const jwksKids = async (i: Instance) =>
    (await i.http.get<{ keys: JWK[] }>('/.well-known/jwks.json')).body.keys.map((k) => k.kid);

  beforeAll(async () => {
    dbUrl = await createMigratedDatabase(e2eAdminUrl(), dbName);
    env = { DATABASE_URL: dbUrl, CACHE_KEY_PREFIX: `e2e_${process.env.E2E_RUN_ID}_seckeys` };
  });
  afterAll(async () => {
    await Promise.all(instances.map((i) => i.close()));
    await dropDatabase(e2eAdminUrl(), dbName);
  });

  it('a plaintext key is sealed at the first boot with KEY_ENCRYPTION_KEY; without it the boot then fails clearly', async () => {
    await start(); // first boot, no key: the generated key is stored as PEM
    const [plain] = await sql<{ private_pem: string }>('SELECT private_pem FROM signing_keys');
    expect(plain?.private_pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);

    const sealed = await start({ KEY_ENCRYPTION_KEY: KEK });
    const rows = await sql<{ private_pem: string }>('SELECT private_pem FROM signing_keys');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.private_pem).toMatch(/^kek1:/);
    expect(rows[0]?.private_pem).not.toContain('PRIVATE KEY');
    // It signs with the sealed key, and what it signs verifies.
    const user = await UserFactory.register(sealed.http);
    expect((await sealed.http.get('/api/v1/auth/me', { token: user.tokens.accessToken })).status).toBe(200);

    await expect(startInstance(env)).rejects.toThrow(/encrypted at rest: set KEY_ENCRYPTION_KEY/);
    await expect(
      startInstance({ ...env, KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') }),
    ).rejects.toThrow(/KEY_ENCRYPTION_KEY does not open/);
  });

  it('npm run keys:withdraw <kid>: out of the JWKS, its tokens refused on every running instance, its private half erased', async () => {
    const [a, b] = [instances[1]!, await start({ KEY_ENCRYPTION_KEY: KEK })];
    const user = await UserFactory.register(a.http);
    const leaked = kidOf(user.tokens.accessToken);
    expect(await jwksKids(b)).toContain(leaked);

    const stdout = await runKeyScript('keys:withdraw', [leaked], dbUrl, {
      CACHE_KEY_PREFIX: env.CACHE_KEY_PREFIX,
      KEY_ENCRYPTION_KEY: KEK,
    });
    const withdrawnAt = Date.now();
    const match = /Signing key (\S+) withdrawn; the active key is (\S+)/.exec(stdout);
    expect(match?.[1]).toBe(leaked);
    const active = match![2]!;
    expect(active).not.toBe(leaked);

    const rows = await sql<{ kid: string; private_pem: string | null; withdrawn_at: Date | null }>(
      'SELECT kid, private_pem, withdrawn_at FROM signing_keys',
    );
    expect(rows.find((r) => r.kid === leaked)).toEqual(
      expect.objectContaining({ private_pem: null, withdrawn_at: expect.any(Date) }),
    );
    expect(rows.find((r) => r.kid === active)?.private_pem).toMatch(/^kek1:/);

    // Every running instance drops it at its next reload: refused, and gone from the JWKS.
    for (const i of [a, b]) {
      for (;;) {
        const res = await i.http.get('/api/v1/auth/me', { token: user.tokens.accessToken });
        if (res.status === 401) break;
        expect(Date.now() - withdrawnAt).toBeLessThan(RELOAD_INTERVAL_MS + 5_000);
        await sleep(200);
      }
      expectError(
        await i.http.get('/api/v1/auth/me', { token: user.tokens.accessToken }),
        401,
        'invalid_token',
      );
      expect(await jwksKids(i)).not.toContain(leaked);
    }
    console.log(
      `keys:withdraw: both running instances refused the leaked key's token ${Date.now() - withdrawnAt} ms after the command returned`,
    );
    // The user signs in again and gets a token of the new key, which works everywhere.
    const again = await UserFactory.login(b.http, user);
    expect(kidOf(again.accessToken)).toBe(active);
    expect((await a.http.get('/api/v1/auth/me', { token: again.accessToken })).status).toBe(200);
  });
});
