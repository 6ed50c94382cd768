import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { expectError, strongPassword, uniqueEmail, UserFactory } from './support/factories';
import { HttpClient } from './support/http';
import { sidOf } from './support/jws';
import { baseEnv } from './support/instance';
import { freePort } from './support/servers';

// PGlite is WebAssembly: a start (and the migrations on an empty directory) takes a few seconds.
jest.setTimeout(120_000);

const ROOT = join(__dirname, '..');
const ENTRYPOINT = join(ROOT, 'apps/auth-service/src/main.ts');

interface ServiceProcess {
  url: string;
  http: HttpClient;
  pid: number;
  output(): string;
  /** SIGTERM, then waits for a graceful exit (PGlite must close its data directory cleanly). */
  close(): Promise<void>;
}

/**
 * The service exactly as `npm start` runs it (main.ts, configuration from the environment), in
 * its own process, with NO DATABASE_URL and NO REDIS_URL: the embedded PGlite default under
 * DATA_DIR. (PGlite's CommonJS build loads Node built-ins with dynamic `import()`, which the Jest
 * VM refuses without --experimental-vm-modules, so it is not started inside the Jest worker.)
 */
async function startEmbedded(dataDir: string): Promise<ServiceProcess> {
  const port = await freePort();
  const env: Record<string, string> = {
    ...baseEnv(),
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DB_MIGRATE_ON_START: 'true',
  };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const child: ChildProcess = spawn(process.execPath, ['-r', '@swc-node/register', ENTRYPOINT], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const url = `http://127.0.0.1:${port}`;
  const http = new HttpClient(url);
  const service: ServiceProcess = {
    url,
    http,
    pid: child.pid!,
    output: () => output,
    close: async () => {
      if (hasExited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const { code, signal } = await exited;
      clearTimeout(timer);
      if (!(code === 0 || signal === 'SIGTERM')) {
        throw new Error(`the service did not shut down cleanly (code ${code}, signal ${signal}):\n${output}`);
      }
    },
  };

  const deadline = Date.now() + 90_000;
  for (;;) {
    if (hasExited) throw new Error(`the service exited during start-up:\n${output}`);
    const live = await http.get('/health/live').catch(() => undefined);
    if (live?.status === 200) return service;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the service did not start within 90 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('embedded PostgreSQL (PGlite) when DATABASE_URL is unset', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;
  const email = uniqueEmail('embedded');
  const password = strongPassword();
  let userId: string;
  let firstKids: string[];
  let firstTokenKid: string | undefined;
  let firstPid: number;
  let firstAccessToken: string;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'auth-e2e-embedded-'));
  });
  afterAll(async () => {
    await service?.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('first start on an empty DATA_DIR', () => {
    beforeAll(async () => {
      service = await startEmbedded(dataDir);
      firstPid = service.pid;
    });

    it('is ready, with the database up and Redis reported as not configured', async () => {
      const res = await service!.http.get('/health/ready');
      expect(res.status).toBe(200);
      expect(res.body.details.database.status).toBe('up');
      expect(res.body.details.redis).toEqual(expect.objectContaining({ configured: false }));
    });

    it('keeps its data under DATA_DIR', () => {
      expect(existsSync(dataDir)).toBe(true);
      expect(readdirSync(dataDir).length).toBeGreaterThan(0);
    });

    it('register, /auth/me and login work', async () => {
      const reg = await service!.http.post('/api/v1/auth/register', { email, password, name: 'Embedded' });
      expect(reg.status).toBe(201);
      userId = reg.body.user.id;
      firstAccessToken = reg.body.accessToken;
      firstTokenKid = decodeProtectedHeader(reg.body.accessToken).kid;
      const me = await service!.http.get('/api/v1/auth/me', { token: reg.body.accessToken });
      expect(me.status).toBe(200);
      expect(me.body.email).toBe(email);
      const login = await UserFactory.login(service!.http, { email, password });
      expect(login.user.id).toBe(userId);
      expectError(
        await service!.http.post('/api/v1/auth/register', { email, password: strongPassword() }),
        409,
        'email_taken',
      );
    });

    it('logout revokes at once without Redis', async () => {
      const login = await UserFactory.login(service!.http, { email, password });
      expect((await service!.http.get('/api/v1/auth/me', { token: login.accessToken })).status).toBe(200);
      expect(
        (await service!.http.post('/api/v1/auth/logout', undefined, { token: login.accessToken })).status,
      ).toBe(204);
      expectError(
        await service!.http.get('/api/v1/auth/me', { token: login.accessToken }),
        401,
        'invalid_token',
      );
    });

    it('many requests at once over the pool, transactions among them: each answered for its own user (one PGlite session shared by the connections)', async () => {
      const users = [];
      for (let i = 0; i < 8; i++) users.push(await UserFactory.register(service!.http));
      const refreshTokens = users.map((user) => user.tokens.refreshToken);
      const wrong: string[] = [];
      for (let round = 0; round < 8; round++) {
        await Promise.all(
          users.flatMap((user, i) => {
            const token = user.tokens.accessToken;
            const name = `user ${i} round ${round}`;
            return [
              // A rotation is a transaction: the session is held across several exchanges.
              service!.http.post('/api/v1/auth/refresh', { refreshToken: refreshTokens[i] }).then((res) => {
                if (res.status === 200 && sidOf(res.body.accessToken) === sidOf(token))
                  refreshTokens[i] = res.body.refreshToken;
                else wrong.push(`refresh ${i}: ${res.status} ${res.text}`);
              }),
              service!.http.patch('/api/v1/users/me', { name }, { token }).then((res) => {
                if (res.status !== 200 || res.body.name !== name || res.body.email !== user.email)
                  wrong.push(`PATCH ${i}: ${res.status} ${res.text}`);
              }),
              service!.http.get('/api/v1/auth/sessions', { token }).then((res) => {
                const ids = res.status === 200 ? (res.body as Array<{ id: string }>).map((s) => s.id) : [];
                if (ids.length !== 1 || ids[0] !== sidOf(token))
                  wrong.push(`sessions ${i}: ${res.status} ${res.text}`);
              }),
            ];
          }),
        );
      }
      expect(wrong).toEqual([]);
    });

    it('publishes a JWKS whose key signed the tokens', async () => {
      const jwks = await service!.http.get('/.well-known/jwks.json');
      expect(jwks.status).toBe(200);
      firstKids = (jwks.body.keys as Array<{ kid: string }>).map((k) => k.kid).sort();
      expect(firstKids.length).toBeGreaterThan(0);
      expect(firstKids).toContain(firstTokenKid);
    });
  });

  describe('after a restart on the same DATA_DIR', () => {
    beforeAll(async () => {
      await service?.close();
      service = undefined;
      service = await startEmbedded(dataDir);
    });

    it('is a new process', () => {
      expect(service!.pid).not.toBe(firstPid);
    });

    it('login with the same credentials works: the data survived', async () => {
      const login = await UserFactory.login(service!.http, { email, password });
      expect(login.user.id).toBe(userId);
      expect(login.user.name).toBe('Embedded');
      const me = await service!.http.get('/api/v1/auth/me', { token: login.accessToken });
      expect(me.status).toBe(200);
      expectError(
        await service!.http.post('/api/v1/auth/login', { email, password: `${password}-wrong` }),
        401,
        'invalid_credentials',
      );
    });

    it('an access token issued before the restart is still accepted (same key, session kept)', async () => {
      const me = await service!.http.get('/api/v1/auth/me', { token: firstAccessToken });
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(userId);
    });

    it('the signing key is the same: same JWKS kids, new tokens carry the same kid', async () => {
      const jwks = await service!.http.get('/.well-known/jwks.json');
      expect(jwks.status).toBe(200);
      const kids = (jwks.body.keys as Array<{ kid: string }>).map((k) => k.kid).sort();
      expect(kids).toEqual(firstKids);
      const login = await UserFactory.login(service!.http, { email, password });
      expect(decodeProtectedHeader(login.accessToken).kid).toBe(firstTokenKid);
    });

    it('a registration made before the restart still counts (email_taken), a new one works', async () => {
      expectError(
        await service!.http.post('/api/v1/auth/register', { email, password: strongPassword() }),
        409,
        'email_taken',
      );
      const other = await UserFactory.register(service!.http);
      expect(other.tokens.user.id).not.toBe(userId);
    });
  });
});
