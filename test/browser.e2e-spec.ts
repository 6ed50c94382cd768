import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { Client } from 'pg';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { strongPassword, uniqueEmail } from './support/factories';
import { Instance, startInstance } from './support/instance';

jest.setTimeout(60_000);

/** Debian's chromium (`apt-get install -y chromium`; .ci/run installs it). Never Playwright's download. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const FRONTEND_DIR = join(__dirname, '../apps/example-frontend');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The example frontend, served as static files from its own origin (another port). */
function serveFrontend(): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    const file = join(FRONTEND_DIR, path);
    if (!file.startsWith(FRONTEND_DIR) || !existsSync(file) || !TYPES[extname(file)]) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/**
 * A real browser against a real instance. Origins: the frontend is `http://localhost:F`, the
 * service `http://localhost:A`. Different ports make them different ORIGINS (so CORS applies),
 * but the same SITE (a site ignores the port), so the SameSite=Strict refresh cookie is sent with
 * the frontend's fetches. A frontend on another hostname (another site) would never get the cookie
 * back with SameSite=Strict: deploy the frontend and the service under one registrable domain
 * (app.example.com + auth.example.com). The refused page is `http://127.0.0.1:F`: another origin,
 * not in CORS_ORIGINS.
 */
describe('browser: the example frontend in headless Chromium', () => {
  let auth: Instance;
  let frontend: Server;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  let db: Client;
  let apiUrl: string;
  let allowedOrigin: string;
  let refusedOrigin: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: the browser test needs Debian's chromium ` +
          '(`apt-get install -y chromium`, done by .ci/run), or set CHROMIUM_PATH.',
      );
    }
    frontend = await serveFrontend();
    const port = (frontend.address() as AddressInfo).port;
    allowedOrigin = `http://localhost:${port}`;
    refusedOrigin = `http://127.0.0.1:${port}`;
    auth = await startInstance({ CORS_ORIGINS: allowedOrigin, COOKIE_SECURE: 'false' });
    apiUrl = auth.url.replace('127.0.0.1', 'localhost');
    profileDir = mkdtempSync(join(tmpdir(), 'auth-e2e-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    page = context.pages()[0] ?? (await context.newPage());
    db = new Client({ connectionString: process.env.E2E_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await context?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    await db?.end();
    await auth?.close();
    await new Promise((r) => (frontend ? frontend.close(r) : r(undefined)));
  });

  const status = () => page.locator('#status');
  async function waitForState(state: string): Promise<string> {
    await page.waitForSelector(`#status[data-state="${state}"]`, { timeout: 15_000 });
    return (await status().textContent()) ?? '';
  }
  const open = (origin: string) => page.goto(`${origin}/index.html?api=${encodeURIComponent(apiUrl)}`);

  it('register, login, /auth/me, refresh through the cookie after a reload, logout', async () => {
    const email = uniqueEmail('browser');
    const password = strongPassword();

    await open(allowedOrigin);
    expect(await waitForState('signed-out')).toMatch(/Not signed in/);

    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.fill('#name', 'Browser User');
    await page.click('#register');
    expect(await waitForState('signed-in')).toContain(`Registered: signed in as ${email}`);

    // The refresh cookie is HttpOnly: the page cannot read it, the browser keeps it for the service.
    expect(await page.evaluate('document.cookie')).toBe('');
    const cookies = await context.cookies(apiUrl + '/api/v1/auth/refresh');
    const cookie = cookies.find((c) => c.name === 'refresh_token');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/v1/auth', secure: false });

    await page.click('#logout');
    expect(await waitForState('signed-out')).toBe('Logged out');

    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.click('#login');
    expect(await waitForState('signed-in')).toContain(`Logged in: signed in as ${email}`);

    await page.click('#me');
    expect(await waitForState('me')).toBe(`GET /auth/me: ${email}`);
    expect(JSON.parse((await page.textContent('#user')) ?? '{}')).toMatchObject({
      email,
      name: 'Browser User',
    });

    // A reload forgets the in-memory access token; the cookie brings the session back.
    const before = (await context.cookies(apiUrl + '/api/v1/auth/refresh')).find(
      (c) => c.name === 'refresh_token',
    );
    await page.reload();
    expect(await waitForState('signed-in')).toContain(`Restored after reload: signed in as ${email}`);
    const after = (await context.cookies(apiUrl + '/api/v1/auth/refresh')).find(
      (c) => c.name === 'refresh_token',
    );
    expect(after?.value).toBeDefined();
    expect(after?.value).not.toBe(before?.value); // rotated
    await page.click('#me');
    expect(await waitForState('me')).toBe(`GET /auth/me: ${email}`);

    await page.click('#logout');
    expect(await waitForState('signed-out')).toBe('Logged out');
    // After logout the cookie is gone (or dead): a reload stays signed out.
    await page.reload();
    expect(await waitForState('signed-out')).toMatch(/Not signed in/);
  });

  it('/docs (Swagger UI) renders under its Content-Security-Policy, with no violation', async () => {
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(`${apiUrl}/docs`);
    await page.waitForSelector('.swagger-ui .opblock', { timeout: 15_000 });
    expect(await page.locator('.swagger-ui .opblock').count()).toBeGreaterThan(10);
    expect(violations).toEqual([]);
  });

  it('a page from an origin not in CORS_ORIGINS is refused by CORS: nothing is created', async () => {
    const email = uniqueEmail('browser-refused');
    await open(refusedOrigin);
    expect(await waitForState('error')).toMatch(/Network error/);
    await page.fill('#email', email);
    await page.fill('#password', strongPassword());
    await page.click('#register');
    await page.waitForFunction("document.querySelector('#status').textContent.startsWith('Register failed')");
    expect(await status().textContent()).toMatch(/Register failed \(0\): Network error/);
    // The JSON POST needs a preflight, which was not granted: the request itself never ran.
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE email = $1', [
      email,
    ]);
    expect(rows[0].n).toBe(0);
  });
});
