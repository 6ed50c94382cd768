/**
 * The example frontend as a deployment serves it: Vite's BUILT output from one origin, index.html
 * for every path that is not a file (the client-side routes: an email's /verify-email link), and
 * /api/ forwarded to an auth-service instance, so the pages and the API share that origin as they
 * do behind a reverse proxy.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer, IncomingMessage, request, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '../..');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * `vite build` of apps/example-frontend into a fresh temp dir: every run tests the current
 * source, from a fresh clone too, and never races `nest build`, which empties dist/.
 */
export async function buildFrontend(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'auth-e2e-frontend-'));
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
  delete env.VITE_AUTH_API_URL; // the pages talk to their own origin (or ?api=)
  await promisify(execFile)(
    process.execPath,
    [
      join(ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      join(ROOT, 'apps/example-frontend/vite.config.mts'),
      '--outDir',
      outDir,
      '--emptyOutDir',
      '--logLevel',
      'warn',
    ],
    { cwd: ROOT, env },
  );
  return outDir;
}

export class FrontendServer {
  /** The instance /api/ is forwarded to (set once it is started). */
  upstream: string | undefined;
  private readonly held: Array<{ path: RegExp; ms: number }> = [];

  private constructor(
    private readonly dir: string,
    private readonly server: Server,
  ) {}

  static async start(dir: string): Promise<FrontendServer> {
    const server = createServer();
    const frontend = new FrontendServer(dir, server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => frontend.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return frontend;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /**
   * Holds the service's answers to paths matching `path` for `ms` before the browser gets them:
   * the service has already acted, the browser does not know yet (a race made deterministic).
   */
  holdAnswers(path: RegExp, ms: number): void {
    this.held.push({ path, ms });
  }

  releaseAnswers(): void {
    this.held.length = 0;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (pathname.startsWith('/api/')) return this.forward(req, res, pathname);
    let file: string;
    try {
      file = normalize(join(this.dir, decodeURIComponent(pathname)));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const isFile = file.startsWith(this.dir + sep) && existsSync(file) && statSync(file).isFile();
    if (isFile && TYPES[extname(file)]) {
      res.writeHead(200, { 'content-type': TYPES[extname(file)] }).end(readFileSync(file));
    } else if (!isFile && !extname(pathname)) {
      res.writeHead(200, { 'content-type': TYPES['.html'] }).end(readFileSync(join(this.dir, 'index.html')));
    } else {
      res.writeHead(404).end();
    }
  }

  private forward(req: IncomingMessage, res: ServerResponse, pathname: string): void {
    if (!this.upstream) {
      res.writeHead(502).end();
      return;
    }
    const hold = this.held.find((h) => h.path.test(pathname))?.ms ?? 0;
    const upstream = request(new URL(req.url ?? '/', this.upstream), {
      method: req.method,
      headers: req.headers,
    });
    upstream.on('response', (answer) => {
      setTimeout(() => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      }, hold);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  }
}
