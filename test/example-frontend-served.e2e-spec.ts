import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Browser, chromium } from 'playwright-core';
import { createApp } from '../apps/auth-service/src/create-app';
import { loadConfig } from '../apps/auth-service/src/config/app-config';
import { expectError, strongPassword, uniqueEmail } from './support/factories';
import { buildFrontend } from './support/frontend-server';
import { baseEnv } from './support/instance';
import { MailSink } from './support/mail-sink';
import { freePort } from './support/servers';

jest.setTimeout(60_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** What Chromium sends when it navigates to a page. */
const NAVIGATION = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8';

/** An instance on a port known in advance: APP_URL, the emails' links, must name it. */
async function serviceAt(
  env: Record<string, string>,
  exampleFrontendDir: string,
  logLines?: string[],
): Promise<{ url: string; app: NestFastifyApplication }> {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const config = loadConfig({ ...baseEnv(), APP_URL: url, ...env });
  const logDestination = logLines && { write: (line: string) => void logLines.push(line) };
  const app = await createApp(config, { exampleFrontendDir, ...(logDestination && { logDestination }) });
  await app.listen({ port, host: '127.0.0.1' });
  return { url, app };
}

/**
 * Issue #19's "done when": with FRONTEND_URL unset the service serves the built example frontend
 * itself, so the link of the verification mail (`{APP_URL}/verify-email?token=…`) opens a working
 * page on the service's own origin, under the CSP the page declares.
 */
describe('the example frontend served by the service (FRONTEND_URL unset)', () => {
  let builtDir: string;
  let mail: MailSink;
  let service: { url: string; app: NestFastifyApplication };
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`);
    }
    builtDir = await buildFrontend();
    mail = await MailSink.start();
    service = await serviceAt({ SMTP_URL: mail.url, COOKIE_SECURE: 'false' }, builtDir);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await service?.app.close();
    await mail?.stop();
    if (builtDir) rmSync(builtDir, { recursive: true, force: true });
  });

  const get = (path: string, accept?: string) =>
    fetch(`${service.url}${path}`, accept ? { headers: { accept } } : {});

  it('register in the page, open the emailed link on the service: the address is verified', async () => {
    const context = await browser.newContext();
    const complaints: string[] = [];
    context.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) complaints.push(message.text());
    });
    const page = await context.newPage();
    const email = uniqueEmail('served');
    await page.goto(`${service.url}/`);
    await page.waitForSelector('#status[data-state="signed-out"]', { timeout: 15_000 });
    await page.fill('#email', email);
    await page.fill('#password', strongPassword());
    await page.click('#register');
    await page.waitForSelector('#status[data-state="signed-in"]', { timeout: 15_000 });

    const sent = await mail.waitFor(email, /confirm your email/i);
    const link = /https?:\/\/\S+\/verify-email\?token=[A-Za-z0-9_-]+/.exec(sent.text)?.[0];
    expect(link?.startsWith(`${service.url}/verify-email?token=`)).toBe(true);
    await page.goto(link!);
    await page.waitForSelector('#status[data-state="verified"]', { timeout: 15_000 });
    expect(await page.textContent('#status')).toBe('Your email address is verified.');
    await page.click('section[data-route="/verify-email"] a[href="/"]');
    await page.waitForSelector('#email-state:text-is("email verified")', { timeout: 15_000 });
    expect(complaints).toEqual([]);
    await context.close();
  });

  it("a page carries the CSP of the page's own meta tag, not the API's default-src 'none'", async () => {
    const res = await get('/verify-email?token=x', NAVIGATION);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toBe(readFileSync(join(builtDir, 'index.html'), 'utf8'));
    const meta = /http-equiv="Content-Security-Policy" content="([^"]*)"/
      .exec(html)![1]!
      .replace(/&#39;/g, "'");
    expect(res.headers.get('content-security-policy')).toBe(`${meta}; frame-ancestors 'none'`);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('serves the built assets, kept by browsers (their names change with their content)', async () => {
    const script = readdirSync(join(builtDir, 'assets')).find((name) => name.endsWith('.js'))!;
    const res = await get(`/assets/${script}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await res.text()).toBe(readFileSync(join(builtDir, 'assets', script), 'utf8'));
    const head = await fetch(`${service.url}/verify-email`, {
      method: 'HEAD',
      headers: { accept: NAVIGATION },
    });
    expect(head.status).toBe(200);
  });

  it.each([
    ['an unknown API route, even from a browser', '/api/v1/nope', NAVIGATION],
    ['an unknown API version', '/api/v2/auth/me', NAVIGATION],
    ['an unknown health probe', '/health/nope', NAVIGATION],
    ['an unknown discovery document', '/.well-known/nope', NAVIGATION],
    ['a path asked for without HTML (an API client)', '/nope', 'application/json'],
    ['a path asked for with */* (curl)', '/verify-email', '*/*'],
    ['a missing asset', '/assets/missing.js', '*/*'],
  ])('%s is a JSON 404 in the error shape', async (_case, path, accept) => {
    const res = await get(path, accept);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expectError({ status: res.status, body: await res.json() }, 404, 'not_found');
  });

  it('the API and the operational routes answer as before', async () => {
    expect((await get('/health/live', NAVIGATION)).status).toBe(200);
    expect((await get('/docs-json', NAVIGATION)).headers.get('content-type')).toMatch(/^application\/json/);
    const jwks = await get('/.well-known/jwks.json', NAVIGATION);
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('with FRONTEND_URL set the operator hosts the pages: the service serves none', async () => {
    const operated = await serviceAt({ FRONTEND_URL: 'http://localhost:5173' }, builtDir);
    try {
      const res = await fetch(`${operated.url}/verify-email`, { headers: { accept: NAVIGATION } });
      expectError({ status: res.status, body: await res.json() }, 404, 'not_found');
    } finally {
      await operated.app.close();
    }
  });

  it('without a build it says so once in the log and serves the API only', async () => {
    const lines: string[] = [];
    const missing = join(builtDir, 'not-built');
    const bare = await serviceAt({ LOG_LEVEL: 'info' }, missing, lines);
    try {
      expect(lines.filter((line) => line.includes('example frontend'))).toEqual([
        expect.stringContaining(`No example frontend at ${missing}`),
      ]);
      const res = await fetch(`${bare.url}/verify-email`, { headers: { accept: NAVIGATION } });
      expectError({ status: res.status, body: await res.json() }, 404, 'not_found');
    } finally {
      await bare.app.close();
    }
  });
});
