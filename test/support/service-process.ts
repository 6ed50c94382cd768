import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { HttpClient } from './http';
import { freePort } from './servers';
import { waitUntil } from './wait-until';

const ROOT = join(__dirname, '../..');
const ENTRYPOINT = join(ROOT, 'apps/auth-service/src/main.ts');

export interface ServiceProcess {
  url: string;
  http: HttpClient;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  close(): Promise<void>;
}

/**
 * The service as `npm start` runs it (its real entry point, main.ts, so whatever main loads
 * first is loaded first), in a child process on a spare loopback port, with exactly `env`.
 */
export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['-r', '@swc-node/register', ENTRYPOINT], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const http = new HttpClient(`http://127.0.0.1:${port}`);
  const service: ServiceProcess = {
    url: http.baseUrl,
    http,
    output: () => output,
    close: async () => {
      if (hasExited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await waitUntil(
      async () => {
        if (hasExited) throw new Error('the service exited during start-up');
        return (await http.get('/health/live').catch(() => undefined))?.status === 200;
      },
      { what: 'the service answering /health/live', timeoutMs: 90_000, intervalMs: 200 },
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}:\n${output}`, { cause: error });
  }
  return service;
}
