import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expectError, UserFactory } from './support/factories';
import { HttpClient } from './support/http';
import { INTROSPECTION_CLIENT, Instance, startInstance } from './support/instance';
import { waitUntil } from './support/wait-until';

/**
 * The auth-client as a service outside this repository gets it: `npm pack` of libs/auth-client,
 * installed with npm into a fresh project in the temp dir (no path back to this repository's
 * node_modules), once with NestJS 12 and once with NestJS 11 from the registry. The project is
 * apps/example-consumer's source, which imports the package by its name; it is compiled there
 * against the package's .d.ts and run against a real instance of the service.
 *
 * The registry install is the slow part, so each project's dependencies other than the package
 * are kept in the temp dir under a hash of their list and reused by later runs (a fresh machine,
 * as in CI, installs them once); the package itself is packed and installed anew every run.
 */
jest.setTimeout(300_000);

const ROOT = join(__dirname, '..');
const LIB = join(ROOT, 'libs/auth-client');
const ISSUER = 'http://auth.e2e.test';
const AUDIENCE = 'e2e-package-consumer';
const run = promisify(execFile);

function dependenciesFor(nestMajor: number): Record<string, string> {
  const nest = `^${nestMajor}.0.0`;
  return {
    '@nestjs/common': nest,
    '@nestjs/core': nest,
    '@nestjs/platform-fastify': nest,
    jose: '^6.0.0',
    'reflect-metadata': '^0.2.2',
    rxjs: '^7.8.2',
    '@types/node': '^20.19.0',
  };
}

async function npm(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd,
    env: { ...process.env, npm_config_update_notifier: 'false' },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** A consumer project in the temp dir with the package's peers installed from the registry. */
async function consumerProject(nestMajor: number): Promise<string> {
  const dependencies = dependenciesFor(nestMajor);
  const key = createHash('sha256').update(JSON.stringify(dependencies)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `auth-client-consumer-nest${nestMajor}-${key}`);
  const done = join(dir, 'node_modules/.dependencies-installed');
  if (!existsSync(done)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: `consumer-nest${nestMajor}`, private: true, dependencies }, null, 2),
    );
    await npm(dir, 'install');
    writeFileSync(done, '');
  }
  return dir;
}

/** The example consumer's source, compiled in `dir` with the package's types (strict). */
async function compileExampleConsumer(dir: string): Promise<void> {
  rmSync(join(dir, 'src'), { recursive: true, force: true });
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  mkdirSync(join(dir, 'src'));
  const source = join(ROOT, 'apps/example-consumer/src');
  for (const file of readdirSync(source).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts')))
    cpSync(join(source, file), join(dir, 'src', file));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'node20',
        moduleResolution: 'nodenext',
        target: 'ES2023',
        strict: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        skipLibCheck: true,
        types: ['node'],
        rootDir: 'src',
        outDir: 'dist',
      },
      include: ['src'],
    }),
  );
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface RunningConsumer {
  http: HttpClient;
  process: ChildProcess;
  output: () => string;
}

async function startConsumer(dir: string, authUrl: string): Promise<RunningConsumer> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      AUTH_URL: authUrl,
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
      INTROSPECTION_CLIENT_ID: INTROSPECTION_CLIENT.id,
      INTROSPECTION_CLIENT_SECRET: INTROSPECTION_CLIENT.secret,
      HOST: '127.0.0.1',
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const http = new HttpClient(`http://127.0.0.1:${port}`);
  await waitUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`the consumer exited: ${output}`);
      return (await http.get('/public').catch(() => undefined))?.status === 200;
    },
    { what: 'the example consumer answering /public', timeoutMs: 30_000 },
  );
  return { http, process: child, output: () => output };
}

const NEST_MAJORS = [12, 11];
let tarball: string;
let packed: string[];
/** The consumer project of each NestJS major, with the freshly packed package installed and compiled. */
const projects = new Map<number, string>();

beforeAll(async () => {
  const out = join(tmpdir(), `auth-client-pack-${process.pid}`);
  mkdirSync(out, { recursive: true });
  try {
    const [pack] = JSON.parse(await npm(LIB, 'pack', '--json', '--pack-destination', out)) as {
      filename: string;
      files: { path: string }[];
    }[];
    tarball = join(out, pack!.filename);
    packed = pack!.files.map((f) => f.path);
  } finally {
    // prepack built into libs/auth-client/dist; the repository keeps sources only.
    rmSync(join(LIB, 'dist'), { recursive: true, force: true });
  }
  await Promise.all(
    NEST_MAJORS.map(async (major) => {
      const dir = await consumerProject(major);
      await npm(dir, 'install', '--no-save', tarball);
      await compileExampleConsumer(dir);
      projects.set(major, dir);
    }),
  );
});

afterAll(() => {
  if (tarball) rmSync(join(tarball, '..'), { recursive: true, force: true });
});

it('packs the compiled JavaScript and declarations, without specs', () => {
  for (const file of ['dist/index.js', 'dist/index.d.ts', 'dist/core.js', 'dist/core.d.ts', 'package.json'])
    expect(packed).toContain(file);
  expect(packed.filter((f) => /\.spec\.[jt]s$/.test(f))).toEqual([]);
});

describe.each(NEST_MAJORS)('@auth-service/auth-client installed with NestJS %i', (nestMajor) => {
  let dir: string;
  let auth: Instance;
  let consumer: RunningConsumer;

  beforeAll(async () => {
    dir = projects.get(nestMajor)!;
    auth = await startInstance({ JWT_AUDIENCE: AUDIENCE });
    consumer = await startConsumer(dir, auth.url);
  });

  afterAll(async () => {
    consumer?.process.kill('SIGTERM');
    await auth?.close();
  });

  it('resolves from the project own node_modules, next to the NestJS major it was installed with', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '-e',
        `console.log(JSON.stringify({
          main: require.resolve('@auth-service/auth-client'),
          core: typeof require('@auth-service/auth-client/core').createAuthClient,
          nest: require('@nestjs/core/package.json').version,
        }))`,
      ],
      { cwd: dir },
    );
    const found = JSON.parse(stdout) as { main: string; core: string; nest: string };
    expect(found.main.startsWith(join(dir, 'node_modules/@auth-service/auth-client/dist/'))).toBe(true);
    expect(found.core).toBe('function');
    expect(Number(found.nest.split('.')[0])).toBe(nestMajor);
  });

  it('guards the example consumer routes with tokens of the real service', async () => {
    const user = await UserFactory.register(auth.http);
    const token = user.tokens.accessToken;
    const me = (await auth.http.get<{ id: string }>('/api/v1/auth/me', { token })).body;

    expect((await consumer.http.get('/public')).body).toEqual({ ok: true });
    expectError(await consumer.http.get('/local'), 401, 'invalid_token');
    const local = await consumer.http.get('/local', { token });
    expect([local.status, local.body.userId, local.body.mode]).toEqual([200, me.id, 'local']);
    const strict = await consumer.http.get('/strict', { token });
    expect([strict.status, strict.body.userId, strict.body.mode]).toEqual([200, me.id, 'strict']);
    expectError(await consumer.http.get('/admin', { token }), 403, 'forbidden');

    // A session logged out: the strict route asks introspection and refuses it; the local one
    // checks the signature only and still accepts it (the documented difference of the modes).
    const other = await UserFactory.login(auth.http, user);
    expect((await auth.http.post('/api/v1/auth/logout', {}, { token: other.accessToken })).status).toBe(204);
    expectError(await consumer.http.get('/strict', { token: other.accessToken }), 401, 'invalid_token');
    expect((await consumer.http.get('/local', { token: other.accessToken })).status).toBe(200);
    expect(consumer.process.exitCode).toBeNull();
  });
});
