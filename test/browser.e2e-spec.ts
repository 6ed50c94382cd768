import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { Client } from 'pg';
import { Secret, TOTP } from 'otpauth';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { encode as encodeQr } from 'uqr';
import { strongPassword, uniqueEmail, UserFactory } from './support/factories';
import { buildFrontend, FrontendServer } from './support/frontend-server';
import { Instance, startInstance } from './support/instance';
import { MailSink, SentMail } from './support/mail-sink';
import { TestOpenIdProvider } from './support/oidc-provider';
import { onlyRow } from './support/present';

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
/** The shortest lifetime the service accepts: the token rules below play out in seconds. */
const ACCESS_TTL_SECONDS = 30;
/** The service verifies `exp` with this much tolerance (access-token.service.ts). */
const CLOCK_SKEW_SECONDS = 5;
const OAUTH_CLIENTS = { acme: { id: 'browser-acme', secret: 'browser-acme-secret-0123456789abcdef' } };

/** The link to `path` a mail carries (verification, reset). */
function linkIn(mail: SentMail, path: string): string {
  const link = new RegExp(`https?://\\S+${path}\\?token=[A-Za-z0-9_-]+`).exec(mail.text)?.[0];
  if (!link) throw new Error(`No ${path} link in mail: ${mail.text}`);
  return link;
}

/**
 * A real browser against a real instance. Origins: the frontend is `http://localhost:F`, the
 * service `http://localhost:A`. Different ports make them different ORIGINS (so CORS applies),
 * but the same SITE (a site ignores the port), so the SameSite=Strict refresh cookie is sent with
 * the frontend's fetches. A frontend on another hostname (another site) would never get the cookie
 * back with SameSite=Strict: deploy the frontend and the service under one registrable domain
 * (app.example.com + auth.example.com). The refused page is `http://127.0.0.1:F`: another origin,
 * not in CORS_ORIGINS.
 *
 * The frontend is Vite's build, served with index.html for every route and /api/ forwarded to the
 * instance (test/support/frontend-server.ts). Pages opened without `?api=` talk to their own
 * origin, as behind a reverse proxy; APP_URL is the frontend's origin, so the emails' links and
 * the OAuth callback come back through it.
 */
describe('browser: the example frontend in headless Chromium', () => {
  let auth: Instance;
  let frontend: FrontendServer;
  let builtDir: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let db: Client;
  let mail: MailSink;
  let op: TestOpenIdProvider;
  let apiUrl: string;
  let allowedOrigin: string;
  let refusedOrigin: string;
  /** Every context a test opened ("devices"), closed after it. */
  const devices: BrowserContext[] = [];
  /** Content-Security-Policy complaints of any page: the built pages run under their own policy. */
  const cspViolations: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: the browser test needs Debian's chromium ` +
          '(`apt-get install -y chromium`, done by .ci/run), or set CHROMIUM_PATH.',
      );
    }
    // oidc-provider announces its development-only interactions; they are the point here.
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    jest.spyOn(console, 'info').mockImplementation(() => undefined);
    builtDir = await buildFrontend();
    frontend = await FrontendServer.start(builtDir);
    allowedOrigin = `http://localhost:${frontend.port}`;
    refusedOrigin = `http://127.0.0.1:${frontend.port}`;
    op = await TestOpenIdProvider.start(allowedOrigin, OAUTH_CLIENTS);
    mail = await MailSink.start();
    auth = await startInstance({
      CORS_ORIGINS: allowedOrigin,
      COOKIE_SECURE: 'false',
      APP_URL: allowedOrigin,
      SMTP_URL: mail.url,
      JWT_ACCESS_TTL: String(ACCESS_TTL_SECONDS),
      OAUTH_PROVIDERS: 'acme',
      OAUTH_ACME_ISSUER: op.issuer,
      OAUTH_ACME_NAME: 'Acme ID',
      OAUTH_ACME_CLIENT_ID: OAUTH_CLIENTS.acme.id,
      OAUTH_ACME_CLIENT_SECRET: OAUTH_CLIENTS.acme.secret,
      OAUTH_ALLOWED_REDIRECTS: `${allowedOrigin}/oauth/done`,
    });
    frontend.upstream = auth.url;
    apiUrl = auth.url.replace('127.0.0.1', 'localhost');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    ({ context, page } = await newDevice());
    db = new Client({ connectionString: process.env.E2E_DATABASE_URL });
    await db.connect();
  });
  afterEach(async () => {
    await Promise.all(devices.splice(1).map((device) => device.close()));
    expect(cspViolations.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await db?.end();
    await auth?.close();
    await mail?.stop();
    await op?.stop();
    await frontend?.close();
    if (builtDir) rmSync(builtDir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  /** A browser context of its own: its own cookie jar, as another device. */
  async function newDevice(): Promise<{ context: BrowserContext; page: Page }> {
    const device = await browser.newContext();
    devices.push(device);
    device.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
    });
    return { context: device, page: await device.newPage() };
  }

  const status = () => page.locator('#status');
  async function waitForState(state: string, on: Page = page): Promise<string> {
    await on.waitForSelector(`#status[data-state="${state}"]`, { timeout: 15_000 });
    return (await on.locator('#status').textContent()) ?? '';
  }
  const open = (origin: string) => page.goto(`${origin}/index.html?api=${encodeURIComponent(apiUrl)}`);
  /** A page of the frontend on its own origin (no ?api=: the same-origin deployment). */
  const visit = (on: Page, path = '/') => on.goto(`${allowedOrigin}${path}`);

  async function registerIn(on: Page): Promise<{ email: string; password: string }> {
    const email = uniqueEmail('browser');
    const password = strongPassword();
    await visit(on);
    await waitForState('signed-out', on);
    await on.fill('#email', email);
    await on.fill('#password', password);
    await on.click('#register');
    expect(await waitForState('signed-in', on)).toBe(`Registered: signed in as ${email}`);
    return { email, password };
  }

  async function logInIn(on: Page, user: { email: string; password: string }): Promise<string> {
    await on.fill('#email', user.email);
    await on.fill('#password', user.password);
    return statusAfter(on, () => on.click('#login'));
  }

  /** The status line once `action` has changed it. */
  async function statusAfter(on: Page, action: () => Promise<unknown>): Promise<string> {
    await on.evaluate("document.querySelector('#status').dataset.state = 'test-waiting'");
    await action();
    await on.waitForSelector('#status:not([data-state="test-waiting"])', { timeout: 15_000 });
    return (await on.locator('#status').textContent()) ?? '';
  }

  /** The statuses of the answers to calls whose path ends with one of `paths`, in order. */
  function answersTo(on: Page, ...paths: string[]): string[] {
    const seen: string[] = [];
    on.on('response', (response) => {
      const path = new URL(response.url()).pathname;
      const match = paths.find((p) => path.endsWith(p));
      if (match) seen.push(`${match} ${response.status()}`);
    });
    return seen;
  }

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
    // A selector, not waitForFunction: the built page's CSP refuses the eval that polling needs.
    await page.waitForSelector('#status:text-matches("^Register failed")');
    expect(await status().textContent()).toMatch(/Register failed \(0\): Network error/);
    // The JSON POST needs a preflight, which was not granted: the request itself never ran.
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE email = $1', [
      email,
    ]);
    expect(onlyRow(rows).n).toBe(0);
  });

  it('register, then the emailed link opens /verify-email on the frontend: verified, once', async () => {
    const { page: tab } = await newDevice();
    const { email } = await registerIn(tab);
    expect(await tab.textContent('#email-state')).toBe('email not verified');
    expect(await tab.isVisible('#resend-verification')).toBe(true);

    await mail.waitFor(email, /confirm your email/i);
    await tab.click('#resend-verification');
    expect(await waitForState('verification-sent', tab)).toBe(
      `A new verification email is on its way to ${email}`,
    );
    for (let tries = 0; mail.countTo(email, /confirm your email/i) < 2; tries++) {
      if (tries > 50) throw new Error('the resent verification mail never came');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const link = linkIn(await mail.waitFor(email, /confirm your email/i), '/verify-email');
    expect(link.startsWith(`${allowedOrigin}/verify-email?token=`)).toBe(true);
    await tab.goto(link);
    expect(await waitForState('verified', tab)).toBe('Your email address is verified.');
    expect(tab.url()).toBe(`${allowedOrigin}/verify-email`); // the token left the address bar
    const { rows } = await db.query<{ verified: boolean }>(
      'SELECT email_verified AS verified FROM users WHERE email = $1',
      [email],
    );
    expect(onlyRow(rows).verified).toBe(true);
    // Signed in in this browser: the account shows it at once.
    await tab.click('section[data-route="/verify-email"] a[href="/"]');
    await tab.waitForSelector('#email-state:text-is("email verified")');
    expect(await tab.isVisible('#resend-verification')).toBe(false);

    // A link works once.
    await tab.goto(link);
    expect(await waitForState('error', tab)).toMatch(
      /^Email verification failed \(400 invalid_verification_token\): .*used already or expired/,
    );
    await visit(tab, '/verify-email');
    expect(await waitForState('error', tab)).toMatch(/needs the link from the email/);
  });

  it('forgot password, the emailed /reset-password link: the password rules answer, then the new password works and the old one is refused', async () => {
    const user = await UserFactory.register(auth.http);
    const { page: tab } = await newDevice();
    await visit(tab);
    await waitForState('signed-out', tab);
    await tab.click('#forgot-link');
    await tab.fill('#forgot-email', user.email);
    await tab.click('#forgot-submit');
    expect(await waitForState('reset-sent', tab)).toBe(
      `If an account exists for ${user.email}, a reset link is on its way.`,
    );

    const link = linkIn(await mail.waitFor(user.email, /reset your password/i), '/reset-password');
    expect(link.startsWith(`${allowedOrigin}/reset-password?token=`)).toBe(true);
    await tab.goto(link);
    expect(tab.url()).toBe(`${allowedOrigin}/reset-password`);
    const submit = async (password: string, confirm = password) => {
      await tab.fill('#reset-new-password', password);
      await tab.fill('#reset-confirm-password', confirm);
      const text = await statusAfter(tab, () => tab.click('#reset-submit'));
      return { state: await tab.getAttribute('#status', 'data-state'), text };
    };
    expect(await submit('password1234')).toEqual({
      state: 'error',
      text: 'Password reset failed (400 weak_password): This password is too common; choose another one',
    });
    const newPassword = strongPassword();
    expect(await submit(newPassword, `${newPassword}x`)).toEqual({
      state: 'error',
      text: 'The two passwords differ',
    });
    expect((await submit(newPassword)).state).toBe('password-reset');
    // The token is spent: the same link again is refused.
    await tab.goto(link);
    expect((await submit(strongPassword())).text).toMatch(
      /^Password reset failed \(400 invalid_reset_token\)/,
    );

    await visit(tab);
    await waitForState('signed-out', tab);
    expect(await logInIn(tab, user)).toMatch(/^Login failed \(401 invalid_credentials\)/);
    expect(await logInIn(tab, { email: user.email, password: newPassword })).toBe(
      `Logged in: signed in as ${user.email}`,
    );
  });

  it('account: the name saved; a wrong current password refused without a refresh, the right one changes it', async () => {
    const { page: tab } = await newDevice();
    const user = await registerIn(tab);
    await tab.fill('#profile-name', 'Grace Hopper');
    expect(await statusAfter(tab, () => tab.click('#save-profile'))).toBe('Profile saved');
    expect(JSON.parse((await tab.textContent('#user')) ?? '{}')).toMatchObject({ name: 'Grace Hopper' });

    const calls = answersTo(tab, '/auth/password/change', '/auth/refresh');
    const newPassword = strongPassword();
    await tab.fill('#current-password', `${user.password}-wrong`);
    await tab.fill('#new-password', newPassword);
    expect(await statusAfter(tab, () => tab.click('#change-password'))).toMatch(
      /^Password change failed \(401 invalid_credentials\)/,
    );
    // A 401 about the request, not the token: no refresh, no retry.
    expect(calls).toEqual(['/auth/password/change 401']);
    await tab.fill('#current-password', user.password);
    await tab.fill('#new-password', newPassword);
    expect(await statusAfter(tab, () => tab.click('#change-password'))).toBe(
      'Password changed: every other session was signed out',
    );
    await tab.click('#logout');
    await waitForState('signed-out', tab);
    expect(await logInIn(tab, { email: user.email, password: newPassword })).toBe(
      `Logged in: signed in as ${user.email}`,
    );
  });

  it('sessions: two devices listed; "Sign out this device" revokes the other one, whose next call is a 401', async () => {
    const { page: laptop } = await newDevice();
    const { page: phone } = await newDevice();
    const user = await registerIn(laptop);
    await visit(phone);
    await waitForState('signed-out', phone);
    expect(await logInIn(phone, user)).toBe(`Logged in: signed in as ${user.email}`);

    await laptop.click('#sessions-link');
    expect(await waitForState('sessions', laptop)).toBe('2 active sessions');
    expect(await laptop.locator('#sessions tr[data-current="true"]').count()).toBe(1);
    await laptop.click('#sessions tr[data-current="false"] button.sign-out-device');
    expect(await waitForState('device-signed-out', laptop)).toMatch(/That device is signed out/);
    expect(await laptop.locator('#sessions tr').count()).toBe(1);

    const phoneCalls = answersTo(phone, '/auth/me', '/auth/refresh');
    await phone.click('#me');
    expect(await waitForState('signed-out', phone)).toBe('Your session has ended: sign in again');
    // The revoked access token is refused, the one refresh it earns is refused too, no retry.
    expect(phoneCalls).toEqual(['/auth/me 401', '/auth/refresh 401']);

    // The laptop is untouched; "Sign out everywhere" then ends it as well.
    await laptop.click('section[data-route="/sessions"] a[href="/"]');
    await laptop.click('#me');
    expect(await waitForState('me', laptop)).toBe(`GET /auth/me: ${user.email}`);
    await laptop.click('#sessions-link');
    await waitForState('sessions', laptop);
    await laptop.click('#logout-all');
    expect(await waitForState('signed-out', laptop)).toBe('Signed out everywhere');
    await laptop.reload();
    expect(await waitForState('signed-out', laptop)).toBe('Not signed in');
  });

  it('two tabs refreshing at the same moment: the Web Lock serialises them, no refresh_token_reused, both stay signed in', async () => {
    const { context: tabs, page: first } = await newDevice();
    const user = await registerIn(first);
    const second = await tabs.newPage();
    await visit(second);
    expect(await waitForState('signed-in', second)).toBe(`Restored after reload: signed in as ${user.email}`);

    // The service's answers to /auth/refresh reach the browser 500 ms late: without the lock the
    // second tab's refresh would leave while the first one's rotated cookie is still on its way,
    // present the same refresh token again, and the service would revoke the session.
    const firstAnswers = answersTo(first, '/auth/refresh');
    const secondAnswers = answersTo(second, '/auth/refresh');
    frontend.holdAnswers(/\/auth\/refresh$/, 500);
    let texts: string[];
    try {
      texts = await Promise.all(
        [first, second].map((tab) =>
          statusAfter(tab, () => tab.evaluate("document.getElementById('refresh').click()")),
        ),
      );
    } finally {
      frontend.releaseAnswers();
    }
    expect(texts).toEqual([`Refreshed: signed in as ${user.email}`, `Refreshed: signed in as ${user.email}`]);
    // One refresh, or two in a row (the second tab took the lock before the first one's token
    // reached it): never a refused one.
    const answers = [...firstAnswers, ...secondAnswers];
    expect(answers).toContain('/auth/refresh 200');
    expect(answers.filter((a) => a !== '/auth/refresh 200')).toEqual([]);
    const { rows } = await db.query<{ reason: string | null }>(
      'SELECT s.revoked_reason AS reason FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1',
      [user.email],
    );
    expect(rows).toEqual([{ reason: null }]);
    for (const tab of [first, second]) {
      await tab.click('#me');
      expect(await waitForState('me', tab)).toBe(`GET /auth/me: ${user.email}`);
    }

    // Logging out in one tab signs the other one out (BroadcastChannel).
    await first.click('#logout');
    expect(await waitForState('signed-out', first)).toBe('Logged out');
    expect(await waitForState('signed-out', second)).toBe('Signed out in another tab');
  });

  it('refreshes a margin before expiresIn on the page clock, not before', async () => {
    const { page: tab } = await newDevice();
    await tab.clock.install();
    const user = await registerIn(tab);
    const refreshes = answersTo(tab, '/auth/refresh');
    // 30 s tokens: the margin is a fifth (6 s), so the timer is due 24 s after the token came.
    await tab.clock.fastForward('00:20');
    await tab.click('#me');
    await waitForState('me', tab);
    expect(refreshes).toEqual([]);
    const refreshed = tab.waitForResponse((r) => r.url().endsWith('/auth/refresh'));
    await tab.clock.fastForward('00:05');
    expect((await refreshed).status()).toBe(200);
    expect(await statusAfter(tab, () => tab.click('#me'))).toBe(`GET /auth/me: ${user.email}`);
    expect(refreshes).toEqual(['/auth/refresh 200']);
  });

  it('a 401 for a token that expired while the page slept: one refresh, the call retried', async () => {
    const { page: tab } = await newDevice();
    await tab.clock.install();
    const user = await registerIn(tab);
    // The page's clock stops (a laptop lid closed): its timer cannot fire while the token expires.
    await tab.clock.pauseAt((await tab.evaluate<number>('Date.now()')) + 1_000);
    await new Promise((resolve) =>
      setTimeout(resolve, (ACCESS_TTL_SECONDS + CLOCK_SKEW_SECONDS + 1) * 1_000),
    );
    const calls = answersTo(tab, '/auth/me', '/auth/refresh');
    await tab.click('#me');
    expect(await waitForState('me', tab)).toBe(`GET /auth/me: ${user.email}`);
    expect(calls).toEqual(['/auth/me 401', '/auth/refresh 200', '/auth/me 200']);
  }, 120_000);

  it('OAuth: the provider button, the provider, the return page that refreshes from the cookie', async () => {
    const sub = `sub-${randomBytes(6).toString('hex')}`;
    const email = uniqueEmail('browser-oidc');
    op.accounts.set(sub, { email, email_verified: true, name: 'Ada Lovelace' });
    const { page: tab } = await newDevice();
    await visit(tab);
    await waitForState('signed-out', tab);
    const button = tab.locator('#oauth-providers a[data-provider="acme"]');
    expect(await button.textContent()).toBe('Sign in with Acme ID');

    await button.click();
    // The provider's development login page, then (first time) its consent page.
    await tab.fill('input[name="login"]', sub);
    await tab.fill('input[name="password"]', 'any');
    await tab.click('button[type="submit"]');
    const consent = 'input[name="prompt"][value="consent"]';
    await tab.waitForSelector(`${consent}, #status[data-state="signed-in"]`, { state: 'attached' });
    if ((await tab.locator(consent).count()) > 0) await tab.click('button[type="submit"]');
    expect(await waitForState('signed-in', tab)).toBe(`Signed in with your provider: signed in as ${email}`);
    expect(tab.url()).toBe(`${allowedOrigin}/`);
    expect(await tab.textContent('#email-state')).toBe('email verified');

    // The callback's error, shown; the address bar cleaned.
    await visit(tab, '/oauth/done?error=access_denied&error_description=The%20user%20declined');
    expect(await waitForState('error', tab)).toBe(
      'Sign-in with the provider failed: access_denied (The user declined)',
    );
    expect(tab.url()).toBe(`${allowedOrigin}/oauth/done`);
  });

  it('a second factor due: an OAuth return with ?mfa_token= and a login answering mfaRequired both reach the challenge step', async () => {
    const { page: tab } = await newDevice();
    const verifyCalls: unknown[] = [];
    tab.on('request', (request) => {
      if (request.url().endsWith('/api/v1/auth/mfa/verify')) verifyCalls.push(request.postDataJSON());
    });

    await visit(tab, '/oauth/done?mfa_token=token-from-the-callback');
    expect(await waitForState('mfa-required', tab)).toMatch(/authenticator app/);
    expect(tab.url()).toBe(`${allowedOrigin}/mfa`);
    await tab.fill('#mfa-code', '123456');
    await tab.click('#mfa-submit');
    // The service answers with its own verdict (no second factor exists for this token).
    expect(await waitForState('error', tab)).toMatch(/^Second factor failed \(4\d\d/);
    expect(verifyCalls).toEqual([{ mfaToken: 'token-from-the-callback', code: '123456' }]);

    // The service's login answers a challenge only for an account with TOTP, which the second
    // factors issue adds: until then its documented answer is served for this one request.
    await tab.route('**/api/v1/auth/login', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({
          mfaRequired: true,
          mfaToken: 'token-from-the-login',
          methods: ['totp', 'recovery_code'],
          expiresIn: 300,
        }),
      }),
    );
    await visit(tab);
    await waitForState('signed-out', tab);
    expect(await logInIn(tab, { email: uniqueEmail('browser-mfa'), password: strongPassword() })).toMatch(
      /authenticator app/,
    );
    expect(tab.url()).toBe(`${allowedOrigin}/mfa`);
    await tab.fill('#mfa-recovery-code', 'abcd-efgh-ijkl');
    await tab.click('#mfa-submit');
    await waitForState('error', tab);
    expect(verifyCalls[1]).toEqual({ mfaToken: 'token-from-the-login', recoveryCode: 'abcd-efgh-ijkl' });
  });
  it('passkeys: register one with a virtual authenticator (CDP WebAuthn), sign out, sign in with it', async () => {
    const { context: device, page: tab } = await newDevice();
    // A platform authenticator with user verification and resident keys, as a phone or a laptop
    // with a fingerprint reader: Chromium's DevTools WebAuthn domain, on this page's target.
    const cdp = await device.newCDPSession(tab);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    });
    const calls = answersTo(tab, '/passkeys/registration', '/passkeys/authentication');

    const user = await registerIn(tab);
    await tab.click('#security-link');
    await tab.waitForSelector('#passkey-form', { state: 'visible' });
    await tab.fill('#passkey-name', 'Virtual key');
    expect(await statusAfter(tab, () => tab.click('#passkey-add'))).toBe(
      'Passkey "Virtual key" added: you can sign in with it',
    );
    expect(await tab.locator('#passkeys li').count()).toBe(1);
    expect(await tab.textContent('#passkeys li')).toMatch(/^Virtual key, added .*, never used/);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]).toMatchObject({ isResidentCredential: true, rpId: 'localhost' });

    await visit(tab);
    await waitForState('signed-in', tab);
    await tab.click('#logout');
    expect(await waitForState('signed-out', tab)).toBe('Logged out');

    // No email typed: the discoverable credential names the account.
    expect(await statusAfter(tab, () => tab.click('#passkey-sign-in'))).toBe(
      `Signed in with a passkey as ${user.email}`,
    );
    await tab.reload(); // the refresh cookie of the passkey sign-in brings the session back
    expect(await waitForState('signed-in', tab)).toContain(`signed in as ${user.email}`);
    expect(calls).toEqual(['/passkeys/registration 201', '/passkeys/authentication 200']);
    const [session] = (
      await db.query<{ amr: string[] }>(
        `SELECT s.amr FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE u.email = $1 ORDER BY s.created_at DESC LIMIT 1`,
        [user.email],
      )
    ).rows;
    expect(session?.amr).toEqual(['hwk', 'mfa']);
  });
  it('TOTP: set up from the QR code page, confirmed, then the login challenge with a code and with a recovery code, then turned off', async () => {
    const { page: tab } = await newDevice();
    const user = await registerIn(tab);
    await tab.click('#security-link');
    expect(await waitForState('security', tab)).toBe('TOTP off; 0 passkeys');

    const setup = tab.waitForResponse((r) => r.url().endsWith('/api/v1/auth/mfa/totp/setup'));
    await tab.click('#totp-start');
    const { secret, otpauthUrl } = (await (await setup).json()) as { secret: string; otpauthUrl: string };
    await waitForState('totp-pending', tab);
    expect(await tab.textContent('#totp-secret')).toBe(secret);
    // The QR code is drawn in the page, module for module, from the otpauth URL (4 px a module).
    expect(await tab.locator('#totp-qr').getAttribute('width')).toBe(
      String(encodeQr(otpauthUrl, { ecc: 'M', border: 2 }).size * 4),
    );
    const totp = new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });

    await tab.fill('#totp-confirm-code', totp.generate());
    expect(await statusAfter(tab, () => tab.click('#totp-confirm'))).toBe(
      'TOTP is on: keep the recovery codes somewhere safe',
    );
    const recoveryCodes = await tab.locator('#recovery-codes li').allTextContents();
    expect(recoveryCodes).toHaveLength(10);

    // A password login now stops at the challenge; the next step's code (never used) completes it.
    await visit(tab);
    await waitForState('signed-in', tab);
    await tab.click('#logout');
    await waitForState('signed-out', tab);
    expect(await logInIn(tab, user)).toMatch(/authenticator app/);
    expect(tab.url()).toBe(`${allowedOrigin}/mfa`);
    await tab.fill('#mfa-code', totp.generate({ timestamp: Date.now() + 30_000 }));
    expect(await statusAfter(tab, () => tab.click('#mfa-submit'))).toBe(
      `Second factor accepted: signed in as ${user.email}`,
    );

    // Again with a recovery code, which then no longer works.
    await tab.click('#logout');
    await waitForState('signed-out', tab);
    expect(await logInIn(tab, user)).toMatch(/authenticator app/);
    await tab.fill('#mfa-recovery-code', recoveryCodes[0]!);
    expect(await statusAfter(tab, () => tab.click('#mfa-submit'))).toBe(
      `Second factor accepted: signed in as ${user.email}`,
    );
    await tab.click('#security-link');
    expect(await waitForState('security', tab)).toBe('TOTP on, 9 recovery codes left; 0 passkeys');

    // Turned off with another recovery code: a password alone signs in again.
    await tab.fill('#totp-disable-code', recoveryCodes[1]!);
    expect(await statusAfter(tab, () => tab.click('#totp-disable'))).toBe(
      'TOTP is off: a password alone signs in again',
    );
    await visit(tab);
    await waitForState('signed-in', tab);
    await tab.click('#logout');
    await waitForState('signed-out', tab);
    expect(await logInIn(tab, user)).toBe(`Logged in: signed in as ${user.email}`);
  });
});
