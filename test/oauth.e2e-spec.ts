import { createHash, randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { decodeJwt, generateKeyPair, JWTPayload } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { Client } from 'pg';
import { RedisKeys } from '../apps/auth-service/src/common/redis-keys';
import { expectError, uniqueEmail, UserFactory } from './support/factories';
import { freePort } from './support/servers';
import { Instance, startInstance } from './support/instance';
import { MailSink } from './support/mail-sink';
import { ProviderAccount, TestOpenIdProvider } from './support/oidc-provider';
import { onlyRow } from './support/present';
import { beforeFirst } from '../apps/auth-service/src/common/before-first';

/**
 * OpenID Connect sign-in against a real provider (test/support/oidc-provider.ts), its login and
 * consent pages driven by the test over HTTP. The same provider is configured twice, as "acme"
 * and "corp" (two clients), so one user can link two providers.
 */

const APP_URL = 'http://auth.e2e.test';
const FRONTEND = 'http://app.e2e.test/oauth/done';
const SETTINGS = 'http://app.e2e.test/settings/accounts';
const CLIENTS = {
  acme: { id: 'acme-client', secret: 'acme-client-secret-0123456789abcdef' },
  corp: { id: 'corp-client', secret: 'corp-client-secret-0123456789abcdef' },
};

/** Cookies per origin path-agnostic: enough for the provider's interaction cookies. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const pair = beforeFirst(line, ';');
      const attrs = line.split(';').slice(1);
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/**
 * Plays the browser at the provider: follows redirects, signs in as `login` on the login page,
 * grants consent, and returns the URL the provider sends the browser to (our callback).
 */
async function atProvider(
  authorizeUrl: string,
  login: string,
  options: { abort?: boolean } = {},
): Promise<URL> {
  const jar = new CookieJar();
  let url = authorizeUrl;
  const go = async (method: string, target: string, body?: URLSearchParams) => {
    const res = await fetch(target, {
      method,
      redirect: 'manual',
      headers: {
        cookie: jar.header(),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: body?.toString(),
    });
    jar.store(res);
    return res;
  };
  for (let step = 0; step < 12; step++) {
    const res = await go('GET', url);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, url);
      if (next.href.startsWith(APP_URL)) return next;
      url = next.href;
      continue;
    }
    const html = await res.text();
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    if (res.status !== 200 || !prompt) throw new Error(`provider answered ${res.status} at ${url}: ${html}`);
    if (options.abort) {
      url = `${url}/abort`;
      continue;
    }
    const form =
      prompt === 'login'
        ? new URLSearchParams({ prompt, login, password: 'any' })
        : new URLSearchParams({ prompt });
    const posted = await go('POST', url, form);
    url = new URL(posted.headers.get('location') ?? '', url).href;
  }
  throw new Error('the provider never redirected back');
}

const callbackPath = (url: URL) => url.pathname + url.search;

/** The binding cookie each flow's start set, by the flow's state: what its browser sends back. */
const bindings = new Map<string, string>();

function bindingCookieOf(res: { headers: Headers }): string {
  const cookie = res.headers.getSetCookie().find((c) => /^(__Host-)?oauth_binding=/.test(c));
  if (!cookie) throw new Error('no binding cookie set');
  return beforeFirst(cookie, ';');
}

function remember(res: { headers: Headers }, authorizeUrl: string): void {
  bindings.set(new URL(authorizeUrl).searchParams.get('state')!, bindingCookieOf(res));
}

/** The callback as the browser that started the flow sends it: with that browser's binding cookie. */
function fromBrowser(instance: Instance, back: URL) {
  const cookie = bindings.get(back.searchParams.get('state') ?? '') ?? '';
  return instance.http.get(callbackPath(back), { headers: { cookie } });
}

describe('oauth: OpenID Connect against a real provider (oidc-provider)', () => {
  let op: TestOpenIdProvider;
  let a: Instance;
  let b: Instance;
  let mail: MailSink;
  let db: Client;
  let redis: Redis;
  let deadPort: number;

  const providerEnv = (extra: Record<string, string> = {}) => ({
    APP_URL,
    OAUTH_PROVIDERS: 'acme,corp,down',
    OAUTH_ACME_ISSUER: op.issuer,
    OAUTH_ACME_NAME: 'Acme ID',
    OAUTH_ACME_CLIENT_ID: CLIENTS.acme.id,
    OAUTH_ACME_CLIENT_SECRET: CLIENTS.acme.secret,
    OAUTH_CORP_ISSUER: op.issuer,
    OAUTH_CORP_CLIENT_ID: CLIENTS.corp.id,
    OAUTH_CORP_CLIENT_SECRET: CLIENTS.corp.secret,
    OAUTH_DOWN_ISSUER: `http://127.0.0.1:${deadPort}`,
    OAUTH_DOWN_CLIENT_ID: 'x',
    OAUTH_DOWN_CLIENT_SECRET: 'y',
    OAUTH_ALLOWED_REDIRECTS: `${FRONTEND},${SETTINGS}`,
    ...extra,
  });

  beforeAll(async () => {
    // oidc-provider warns about its development-only interactions on stderr; they are the point here.
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    op = await TestOpenIdProvider.start(APP_URL, CLIENTS);
    deadPort = await freePort();
    mail = await MailSink.start();
    a = await startInstance({ ...providerEnv(), SMTP_URL: mail.url });
    // A second instance in the same process, with another link policy and one provider less:
    // its Passport strategies must not replace the first instance's.
    b = await startInstance(providerEnv({ OAUTH_PROVIDERS: 'acme', OAUTH_LINK_VERIFIED_EMAIL: 'false' }));
    db = new Client({ connectionString: process.env.E2E_DATABASE_URL });
    await db.connect();
    redis = new Redis(process.env.E2E_REDIS_URL!);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await op?.stop();
    await mail?.stop();
    await db?.end();
    redis?.disconnect();
    jest.restoreAllMocks();
  });
  afterEach(() => {
    op.tokenHook = undefined;
  });

  /** A provider account with a unique sub and email. */
  function account(overrides: ProviderAccount = {}): { sub: string; email: string } {
    const sub = `sub-${randomBytes(6).toString('hex')}`;
    const email = overrides.email ?? uniqueEmail('oidc');
    op.accounts.set(sub, { email, email_verified: true, name: 'Ada Lovelace', ...overrides });
    return { sub, email };
  }

  async function authorize(instance: Instance, provider = 'acme', redirect = FRONTEND): Promise<string> {
    const res = await instance.http.get(
      `/api/v1/auth/oauth/${provider}/authorize?redirect_uri=${encodeURIComponent(redirect)}`,
    );
    expect(res.status).toBe(302);
    remember(res, res.headers.get('location')!);
    return res.headers.get('location')!;
  }

  /** The whole sign-in: authorize, the provider's login, the callback; answers the callback's response. */
  async function signIn(login: string, instance = a, provider = 'acme') {
    const back = await atProvider(await authorize(instance, provider), login);
    return fromBrowser(instance, back);
  }

  /** POST link as the holder of `token`; its binding cookie is kept as that browser's. */
  async function startLink(instance: Instance, redirect: string, token: string) {
    const res = await instance.http.post(
      `/api/v1/auth/oauth/acme/link`,
      { redirect_uri: redirect },
      { token },
    );
    if (res.status === 200) remember(res, res.body.authorizeUrl);
    return res;
  }

  function refreshCookie(res: { headers: Headers }): string {
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('refresh_token='));
    expect(cookie).toBeDefined();
    return beforeFirst(cookie!, ';');
  }

  /** The token response the frontend gets from /auth/refresh with the cookie the callback set. */
  async function tokensAfter(callback: { headers: Headers }, instance = a) {
    const res = await instance.http.post('/api/v1/auth/refresh', undefined, {
      headers: { cookie: refreshCookie(callback), origin: APP_URL },
    });
    expect(res.status).toBe(200);
    return res.body;
  }

  const count = async (sql: string, params: unknown[]) =>
    Number(onlyRow((await db.query<{ n: string }>(sql, params)).rows).n);

  /** Nothing of this provider account or email may exist after a failed callback. */
  async function expectNothingCreated(who: { sub: string; email: string }): Promise<void> {
    expect(await count('SELECT count(*) AS n FROM users WHERE email = $1', [who.email])).toBe(0);
    expect(
      await count('SELECT count(*) AS n FROM oauth_accounts WHERE provider_account_id = $1', [who.sub]),
    ).toBe(0);
    expect(
      await count(
        'SELECT count(*) AS n FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1',
        [who.email],
      ),
    ).toBe(0);
  }

  describe('GET /auth/oauth/providers', () => {
    it('lists the configured providers with their names', async () => {
      const res = await a.http.get('/api/v1/auth/oauth/providers');
      expect(res.status).toBe(200);
      expect(res.body).toEqual([
        { id: 'acme', name: 'Acme ID' },
        { id: 'corp', name: 'corp' },
        { id: 'down', name: 'down' },
      ]);
      expect((await b.http.get('/api/v1/auth/oauth/providers')).body).toEqual([
        { id: 'acme', name: 'Acme ID' },
      ]);
    });
  });

  describe('GET /auth/oauth/:provider/authorize', () => {
    it('redirects to the provider with state, nonce, PKCE S256 and our callback', async () => {
      const before = await count('SELECT count(*) AS n FROM oauth_states', []);
      const location = new URL(await authorize(a));
      expect(location.origin + location.pathname).toBe(`${op.issuer}/auth`);
      const q = location.searchParams;
      expect(q.get('client_id')).toBe(CLIENTS.acme.id);
      expect(q.get('response_type')).toBe('code');
      expect(q.get('redirect_uri')).toBe(`${APP_URL}/api/v1/auth/oauth/acme/callback`);
      expect(q.get('scope')).toBe('openid email profile');
      expect(q.get('code_challenge_method')).toBe('S256');
      expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(q.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await count('SELECT count(*) AS n FROM oauth_states', [])).toBe(before + 1);
      // Only a hash of the state is stored.
      const stateHash = createHash('sha256').update(q.get('state')!).digest('base64url');
      const row = await db.query('SELECT * FROM oauth_states WHERE state_hash = $1', [stateHash]);
      expect(row.rows[0]).toMatchObject({ provider: 'acme', redirect_uri: FRONTEND, link_user_id: null });
      const ttl = (row.rows[0].expires_at.getTime() - Date.now()) / 1000;
      expect(ttl).toBeGreaterThan(590);
      expect(ttl).toBeLessThanOrEqual(600);
    });

    it('is rate-limited per client IP (each call stores a pending state row)', async () => {
      const limited = await startInstance({
        ...providerEnv(),
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMIT_OAUTH_AUTHORIZE_IP: '3/60',
        CACHE_KEY_PREFIX: `oauth_rl_${Date.now()}`,
      });
      try {
        const path = `/api/v1/auth/oauth/acme/authorize?redirect_uri=${encodeURIComponent(FRONTEND)}`;
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) statuses.push((await limited.http.get(path)).status);
        expect(statuses).toEqual([302, 302, 302, 429]);
        expectError(await limited.http.get(path), 429, 'too_many_requests');
      } finally {
        await limited.close();
      }
    });

    it('answers 404 unknown_provider for a provider that is not configured', async () => {
      const res = await a.http.get(
        `/api/v1/auth/oauth/nope/authorize?redirect_uri=${encodeURIComponent(FRONTEND)}`,
      );
      expectError(res, 404, 'unknown_provider');
      // Configured on instance a only.
      expectError(
        await b.http.get(`/api/v1/auth/oauth/corp/authorize?redirect_uri=${encodeURIComponent(FRONTEND)}`),
        404,
        'unknown_provider',
      );
    });

    it.each([
      ['missing', ''],
      ['not listed', '?redirect_uri=' + encodeURIComponent('https://evil.example/cb')],
      ['a trailing slash more', '?redirect_uri=' + encodeURIComponent(FRONTEND + '/')],
      ['an added query', '?redirect_uri=' + encodeURIComponent(FRONTEND + '?x=1')],
      ['another scheme', '?redirect_uri=' + encodeURIComponent(FRONTEND.replace('http:', 'https:'))],
    ])('answers 400 invalid_redirect_uri when redirect_uri is %s', async (_case, query) => {
      expectError(await a.http.get(`/api/v1/auth/oauth/acme/authorize${query}`), 400, 'invalid_redirect_uri');
    });

    it('answers 400 oauth_error, not a 5xx, when the provider is unreachable, and stores nothing', async () => {
      const before = await count('SELECT count(*) AS n FROM oauth_states', []);
      const res = await a.http.get(
        `/api/v1/auth/oauth/down/authorize?redirect_uri=${encodeURIComponent(FRONTEND)}`,
      );
      expectError(res, 400, 'oauth_error');
      expect(res.body.message).toMatch(/could not be reached/);
      expect(await count('SELECT count(*) AS n FROM oauth_states', [])).toBe(before);
    });
  });

  describe('sign-in', () => {
    it('signs a new user up: session, refresh cookie, redirect to the frontend', async () => {
      const who = account({ name: 'Grace Hopper' });
      const res = await signIn(who.sub);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(FRONTEND);
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('refresh_token='))!;
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      expect(cookie).toMatch(/Path=\/api\/v1\/auth/);

      const tokens = await tokensAfter(res);
      expect(tokens.user).toEqual(
        expect.objectContaining({
          email: who.email,
          name: 'Grace Hopper',
          emailVerified: true,
          roles: ['user'],
        }),
      );
      const me = await a.http.get('/api/v1/auth/me', { token: tokens.accessToken });
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(tokens.user.id);
      // Signed in through a provider (RFC 8176 `fed`), kept by the refresh that got these tokens.
      expect(decodeJwt(tokens.accessToken).amr).toEqual(['fed']);

      const user = await db.query('SELECT password_hash FROM users WHERE id = $1', [tokens.user.id]);
      expect(user.rows[0].password_hash).toBeNull();
      const linked = await db.query('SELECT * FROM oauth_accounts WHERE user_id = $1', [tokens.user.id]);
      expect(linked.rows).toHaveLength(1);
      expect(linked.rows[0]).toMatchObject({
        provider: 'acme',
        provider_account_id: who.sub,
        email: who.email,
      });
      // The provider's access token is kept, encrypted (AES-256-GCM), and never returned.
      expect(linked.rows[0].access_token_enc).toMatch(/^v1\./);
      const accounts = await a.http.get('/api/v1/auth/oauth/accounts', { token: tokens.accessToken });
      expect(accounts.status).toBe(200);
      expect(accounts.body).toEqual([
        { provider: 'acme', providerAccountId: who.sub, email: who.email, linkedAt: expect.any(String) },
      ]);
      expect(accounts.text).not.toMatch(/token/i);
      // The sign-up is recorded as a registration (method oauth) with the browser's IP and user agent.
      const events = await db.query('SELECT type, ip, details FROM security_events WHERE user_id = $1', [
        tokens.user.id,
      ]);
      expect(events.rows).toEqual(
        expect.arrayContaining([
          { type: 'user.registered', ip: '127.0.0.1', details: { method: 'oauth', provider: 'acme' } },
        ]),
      );
    });

    it('signs a returning user in to the same account, through the oauth cache entry', async () => {
      const who = account();
      const first = await tokensAfter(await signIn(who.sub));
      const again = await signIn(who.sub);
      expect(again.status).toBe(302);
      const second = await tokensAfter(again);
      expect(second.user.id).toBe(first.user.id);
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(await count('SELECT count(*) AS n FROM users WHERE email = $1', [who.email])).toBe(1);
      expect(
        await count('SELECT count(*) AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL', [
          first.user.id,
        ]),
      ).toBe(2);
      const key = a.app.get(RedisKeys).oauthAccount('acme', who.sub);
      expect(await redis.exists(key)).toBe(1);
    });

    it('a user with TOTP: redirect with mfa_token and no cookie, then /auth/mfa/verify (amr fed, otp, mfa)', async () => {
      const who = account();
      const first = await tokensAfter(await signIn(who.sub));
      const setup = await a.http.post('/api/v1/auth/mfa/totp/setup', undefined, { token: first.accessToken });
      const secret = Secret.fromBase32(setup.body.secret as string);
      // Codes of steps -1 and 0 must stay within ±1 step until used: not in a step's last seconds.
      const left = 30_000 - (Date.now() % 30_000);
      if (left < 4_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
      const now = Date.now();
      const code = (offset: number) => TOTP.generate({ secret, timestamp: now + offset * 30_000 });
      const confirm = await a.http.post(
        '/api/v1/auth/mfa/totp/confirm',
        { code: code(-1) },
        { token: first.accessToken },
      );
      expect(confirm.status).toBe(200);
      const sessionsBefore = await count('SELECT count(*) AS n FROM sessions WHERE user_id = $1', [
        first.user.id,
      ]);

      const res = await signIn(who.sub);
      expect(res.status).toBe(302);
      expect(res.headers.getSetCookie().filter((c) => c.startsWith('refresh_token='))).toEqual([]);
      const location = new URL(res.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(FRONTEND);
      const mfaToken = location.searchParams.get('mfa_token');
      expect(mfaToken).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expect(await count('SELECT count(*) AS n FROM sessions WHERE user_id = $1', [first.user.id])).toBe(
        sessionsBefore,
      );

      const verified = await b.http.post('/api/v1/auth/mfa/verify', { mfaToken, code: code(0) });
      expect(verified.status).toBe(200);
      expect(verified.body.user.id).toBe(first.user.id);
      expect(decodeJwt(verified.body.accessToken as string).amr).toEqual(['fed', 'otp', 'mfa']);
      expect(verified.headers.getSetCookie().some((c) => c.startsWith('refresh_token='))).toBe(true);
    });

    it('finishes on another instance than the one that started it (state is shared)', async () => {
      const who = account();
      const back = await atProvider(await authorize(a), who.sub);
      const res = await fromBrowser(b, back);
      expect(res.status).toBe(302);
      expect((await tokensAfter(res, b)).user.email).toBe(who.email);
    });

    it('joins an existing user when both the provider and the user have the email verified', async () => {
      const who = account();
      const viaAcme = await tokensAfter(await signIn(who.sub));
      // The same person at another provider, same verified email.
      const other = `corp-${who.sub}`;
      op.accounts.set(other, { email: who.email, email_verified: true });
      const viaCorp = await tokensAfter(await signIn(other, a, 'corp'));
      expect(viaCorp.user.id).toBe(viaAcme.user.id);
      const accounts = await a.http.get('/api/v1/auth/oauth/accounts', { token: viaCorp.accessToken });
      expect(accounts.body.map((x: { provider: string }) => x.provider)).toEqual(['acme', 'corp']);
    });

    it('does not join when the provider does not vouch for the email (409 email_taken)', async () => {
      const who = account();
      await tokensAfter(await signIn(who.sub));
      const other = { sub: `corp-unverified-${who.sub}`, email: who.email };
      op.accounts.set(other.sub, { email: who.email, email_verified: false });
      expectError(await signIn(other.sub, a, 'corp'), 409, 'email_taken');
      expect(
        await count('SELECT count(*) AS n FROM oauth_accounts WHERE provider_account_id = $1', [other.sub]),
      ).toBe(0);
    });

    it('does not join a password account whose email was never verified (409 email_taken)', async () => {
      const user = await UserFactory.register(a.http);
      const who = { sub: `sub-${randomBytes(6).toString('hex')}`, email: user.email };
      op.accounts.set(who.sub, { email: user.email, email_verified: true });
      expectError(await signIn(who.sub), 409, 'email_taken');
      expect(
        await count('SELECT count(*) AS n FROM oauth_accounts WHERE provider_account_id = $1', [who.sub]),
      ).toBe(0);
      expect(
        await count('SELECT count(*) AS n FROM sessions WHERE user_id = $1', [user.tokens.user.id]),
      ).toBe(1);
    });

    it('joins a password account with a verified email; with OAUTH_LINK_VERIFIED_EMAIL=false it never does', async () => {
      const user = await UserFactory.register(a.http);
      const token = MailSink.tokenOf(await mail.waitFor(user.email, /confirm your email/i));
      expect((await a.http.post('/api/v1/auth/email/verify', { token })).status).toBe(204);
      const who = { sub: `sub-${randomBytes(6).toString('hex')}`, email: user.email };
      op.accounts.set(who.sub, { email: user.email, email_verified: true });

      expectError(await signIn(who.sub, b), 409, 'email_taken'); // instance b: policy off
      const res = await signIn(who.sub, a); // instance a: policy on
      expect(res.status).toBe(302);
      expect((await tokensAfter(res)).user.id).toBe(user.tokens.user.id);
    });

    it('answers 400 oauth_error when the provider shares no email with a new account', async () => {
      const sub = `sub-noemail-${randomBytes(4).toString('hex')}`;
      op.accounts.set(sub, { name: 'No Email' });
      const res = await signIn(sub);
      expectError(res, 400, 'oauth_error');
      expect(
        await count('SELECT count(*) AS n FROM oauth_accounts WHERE provider_account_id = $1', [sub]),
      ).toBe(0);
    });
  });

  describe('metrics', () => {
    /** auth_oauth_callbacks_total for one label set, read from /metrics. */
    async function callbacks(provider: string, result: string): Promise<number> {
      const text = (await a.http.get('/metrics')).text;
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`auth_oauth_callbacks_total{provider="${provider}",result="${result}"}`));
      return line ? Number(line.split(' ').pop()) : 0;
    }

    it('auth_oauth_callbacks_total counts sign-ins, links and refusals by provider, with bounded labels', async () => {
      const before = {
        signedIn: await callbacks('acme', 'signed_in'),
        linked: await callbacks('acme', 'linked'),
        badState: await callbacks('acme', 'invalid_oauth_state'),
        unknown: await callbacks('unknown', 'unknown_provider'),
      };
      const who = account();
      const tokens = await tokensAfter(await signIn(who.sub));
      const password = await UserFactory.register(a.http);
      const link = await startLink(a, FRONTEND, password.tokens.accessToken);
      expect((await fromBrowser(a, await atProvider(link.body.authorizeUrl, account().sub))).status).toBe(
        302,
      );
      expectError(await a.http.get('/api/v1/auth/oauth/acme/callback?code=x'), 400, 'invalid_oauth_state');
      const junk = `nope-${randomBytes(4).toString('hex')}`;
      expectError(
        await a.http.get(`/api/v1/auth/oauth/${junk}/callback?code=x&state=y`),
        404,
        'unknown_provider',
      );

      expect({
        signedIn: (await callbacks('acme', 'signed_in')) - before.signedIn,
        linked: (await callbacks('acme', 'linked')) - before.linked,
        badState: (await callbacks('acme', 'invalid_oauth_state')) - before.badState,
        unknown: (await callbacks('unknown', 'unknown_provider')) - before.unknown,
      }).toEqual({ signedIn: 1, linked: 1, badState: 1, unknown: 1 });
      expect((await a.http.get('/metrics')).text).not.toContain(junk);
      expect(tokens.accessToken).toBeDefined();
    });
  });

  describe('linking and unlinking', () => {
    it('links a provider account to the signed-in user, then signs that user in with it', async () => {
      const user = await UserFactory.register(a.http);
      const who = account(); // another email than the user's
      const res = await startLink(a, SETTINGS, user.tokens.accessToken);
      expect(res.status).toBe(200);
      const back = await atProvider(res.body.authorizeUrl, who.sub);
      const done = await fromBrowser(a, back);
      expect(done.status).toBe(302);
      expect(done.headers.get('location')).toBe(SETTINGS);
      // Linking keeps the caller's session: no new one, no cookie.
      expect(done.headers.getSetCookie().some((c) => c.startsWith('refresh_token='))).toBe(false);
      const accounts = await a.http.get('/api/v1/auth/oauth/accounts', { token: user.tokens.accessToken });
      expect(accounts.body).toEqual([
        expect.objectContaining({ provider: 'acme', providerAccountId: who.sub }),
      ]);
      expect(await count('SELECT count(*) AS n FROM users WHERE email = $1', [who.email])).toBe(0);

      const signedIn = await tokensAfter(await signIn(who.sub));
      expect(signedIn.user.id).toBe(user.tokens.user.id);
    });

    it('answers 401 without a token, 400 for a bad redirect_uri, 409 when that provider is linked already', async () => {
      expectError(
        await a.http.post('/api/v1/auth/oauth/acme/link', { redirect_uri: SETTINGS }),
        401,
        'invalid_token',
      );
      const who = account();
      const tokens = await tokensAfter(await signIn(who.sub));
      const auth = { token: tokens.accessToken };
      expectError(
        await a.http.post('/api/v1/auth/oauth/acme/link', { redirect_uri: 'https://evil.example' }, auth),
        400,
        'invalid_redirect_uri',
      );
      expectError(await a.http.post('/api/v1/auth/oauth/acme/link', {}, auth), 400, 'validation_failed');
      expectError(
        await a.http.post('/api/v1/auth/oauth/acme/link', { redirect_uri: SETTINGS }, auth),
        409,
        'account_already_linked',
      );
      expectError(
        await a.http.post('/api/v1/auth/oauth/nope/link', { redirect_uri: SETTINGS }, auth),
        404,
        'unknown_provider',
      );
    });

    it("answers 409 account_already_linked for a provider account that is another user's", async () => {
      const owner = account();
      await tokensAfter(await signIn(owner.sub));
      const user = await UserFactory.register(a.http);
      const res = await startLink(a, SETTINGS, user.tokens.accessToken);
      const back = await atProvider(res.body.authorizeUrl, owner.sub);
      expectError(await fromBrowser(a, back), 409, 'account_already_linked');
      expect(
        await count('SELECT count(*) AS n FROM oauth_accounts WHERE user_id = $1', [user.tokens.user.id]),
      ).toBe(0);
    });

    it('refuses to unlink the last way to sign in (409 last_login_method), allows it otherwise', async () => {
      const who = account();
      const tokens = await tokensAfter(await signIn(who.sub));
      const auth = { token: tokens.accessToken };
      expectError(await a.http.delete('/api/v1/auth/oauth/accounts/acme', auth), 409, 'last_login_method');

      const corp = `corp-${who.sub}`;
      op.accounts.set(corp, { email: who.email, email_verified: true });
      expect((await tokensAfter(await signIn(corp, a, 'corp'))).user.id).toBe(tokens.user.id);

      // A returning sign-in caches the lookup; unlinking deletes that entry.
      await tokensAfter(await signIn(who.sub));
      const key = a.app.get(RedisKeys).oauthAccount('acme', who.sub);
      expect(await redis.exists(key)).toBe(1);
      expect((await a.http.delete('/api/v1/auth/oauth/accounts/acme', auth)).status).toBe(204);
      expect(await redis.exists(key)).toBe(0); // the cached lookup went with it
      expectError(await a.http.delete('/api/v1/auth/oauth/accounts/corp', auth), 409, 'last_login_method');
      expectError(
        await a.http.delete('/api/v1/auth/oauth/accounts/acme', auth),
        404,
        'oauth_account_not_found',
      );
      const accounts = await a.http.get('/api/v1/auth/oauth/accounts', auth);
      expect(accounts.body.map((x: { provider: string }) => x.provider)).toEqual(['corp']);
    });

    it('lets a user with a password unlink their only provider', async () => {
      const user = await UserFactory.register(a.http);
      const who = account();
      const link = await startLink(a, SETTINGS, user.tokens.accessToken);
      await fromBrowser(a, await atProvider(link.body.authorizeUrl, who.sub));
      const auth = { token: user.tokens.accessToken };
      expect((await a.http.delete('/api/v1/auth/oauth/accounts/acme', auth)).status).toBe(204);
      expect((await a.http.get('/api/v1/auth/oauth/accounts', auth)).body).toEqual([]);
      // Both changes recorded, newest first, with the provider and the caller's IP.
      const events = await a.http.get('/api/v1/auth/events', auth);
      expect(events.body.items.slice(0, 2)).toEqual([
        expect.objectContaining({ type: 'oauth.unlinked', ip: '127.0.0.1', details: { provider: 'acme' } }),
        expect.objectContaining({ type: 'oauth.linked', ip: '127.0.0.1', details: { provider: 'acme' } }),
      ]);
      expectError(await a.http.get('/api/v1/auth/oauth/accounts'), 401, 'invalid_token');
    });
  });

  describe('flows bound to the browser that started them (RFC 9700 §4.7)', () => {
    const authorizePath = `/api/v1/auth/oauth/acme/authorize?redirect_uri=${encodeURIComponent(FRONTEND)}`;

    it('sets an HttpOnly, SameSite=Lax binding cookie on the OAuth routes, kept for the next flow', async () => {
      const res = await a.http.get(authorizePath);
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('oauth_binding='))!;
      expect(cookie).toMatch(/;\s*HttpOnly/i);
      expect(cookie).toMatch(/;\s*SameSite=Lax/i);
      expect(cookie).toMatch(/;\s*Path=\/api\/v1\/auth\/oauth(;|$)/);
      // Another tab's flow in the same browser keeps the value: both flows can complete.
      const again = await a.http.get(authorizePath, { headers: { cookie: beforeFirst(cookie, ';') } });
      expect(bindingCookieOf(again)).toBe(beforeFirst(cookie, ';'));
    });

    it("login CSRF: the attacker's callback URL opened in the victim's browser signs no one in (400)", async () => {
      const victimsOwn = bindingCookieOf(await a.http.get(authorizePath));
      for (const victimCookie of [undefined, victimsOwn]) {
        const attacker = account();
        // The attacker signs in at the provider and stops before the callback...
        const back = await atProvider(await authorize(a), attacker.sub);
        // ...which the victim's browser follows: no binding cookie, or its own.
        const res = await a.http.get(
          callbackPath(back),
          victimCookie ? { headers: { cookie: victimCookie } } : {},
        );
        expectError(res, 400, 'invalid_oauth_state');
        expect(res.headers.getSetCookie().some((c) => c.startsWith('refresh_token='))).toBe(false);
        await expectNothingCreated(attacker);
      }
    });

    it("link: the attacker's authorizeUrl completed in the victim's browser links nothing to the attacker (400)", async () => {
      const attacker = await UserFactory.register(a.http);
      const link = await a.http.post(
        '/api/v1/auth/oauth/acme/link',
        { redirect_uri: SETTINGS },
        { token: attacker.tokens.accessToken },
      );
      expect(link.status).toBe(200);
      const victim = account();
      // The victim opens the URL, signs in at the provider; their browser never had the cookie.
      const back = await atProvider(link.body.authorizeUrl, victim.sub);
      expectError(await a.http.get(callbackPath(back)), 400, 'invalid_oauth_state');
      const linked = await a.http.get('/api/v1/auth/oauth/accounts', { token: attacker.tokens.accessToken });
      expect(linked.body).toEqual([]);
      await expectNothingCreated(victim);
    });
  });

  describe('callback errors: a 4xx with a documented code, nothing half-created', () => {
    it('answers 400 invalid_oauth_state for a missing or forged state', async () => {
      const who = account();
      const back = await atProvider(await authorize(a), who.sub);
      const code = back.searchParams.get('code')!;
      expectError(
        await a.http.get(`/api/v1/auth/oauth/acme/callback?code=${code}`),
        400,
        'invalid_oauth_state',
      );
      expectError(
        await a.http.get(
          `/api/v1/auth/oauth/acme/callback?code=${code}&state=${randomBytes(32).toString('base64url')}`,
        ),
        400,
        'invalid_oauth_state',
      );
      await expectNothingCreated(who);
    });

    it('answers 400 invalid_oauth_state for a replayed state (single use)', async () => {
      const who = account();
      const back = await atProvider(await authorize(a), who.sub);
      const first = await fromBrowser(a, back);
      expect(first.status).toBe(302);
      expectError(await fromBrowser(a, back), 400, 'invalid_oauth_state');
      expectError(await fromBrowser(b, back), 400, 'invalid_oauth_state');
    });

    it('answers 400 invalid_oauth_state for an expired state', async () => {
      const who = account();
      const back = await atProvider(await authorize(a), who.sub);
      const hash = createHash('sha256').update(back.searchParams.get('state')!).digest('base64url');
      await db.query(
        `UPDATE oauth_states SET expires_at = now() - interval '1 second' WHERE state_hash = $1`,
        [hash],
      );
      expectError(await fromBrowser(a, back), 400, 'invalid_oauth_state');
      await expectNothingCreated(who);
    });

    it("answers 400 invalid_oauth_state for another provider's state", async () => {
      const who = account();
      const back = await atProvider(await authorize(a, 'acme'), who.sub);
      expectError(
        await a.http.get(callbackPath(back).replace('/oauth/acme/', '/oauth/corp/')),
        400,
        'invalid_oauth_state',
      );
      await expectNothingCreated(who);
    });

    it('answers 404 unknown_provider on the callback of a provider that is not configured', async () => {
      expectError(
        await a.http.get('/api/v1/auth/oauth/nope/callback?code=x&state=y'),
        404,
        'unknown_provider',
      );
    });

    it("answers 400 oauth_error for the provider's error parameter (the user declined)", async () => {
      const who = account();
      const back = await atProvider(await authorize(a), who.sub, { abort: true });
      expect(back.searchParams.get('error')).toBe('access_denied');
      const res = await fromBrowser(a, back);
      expectError(res, 400, 'oauth_error');
      expect(res.body.message).toMatch(/access_denied/);
      await expectNothingCreated(who);
      // The state was spent all the same.
      expectError(await fromBrowser(a, back), 400, 'invalid_oauth_state');
    });

    it('answers 400 oauth_error when the nonce does not match the one stored', async () => {
      const who = account();
      const back = await atProvider(await authorize(a), who.sub);
      const hash = createHash('sha256').update(back.searchParams.get('state')!).digest('base64url');
      await db.query(`UPDATE oauth_states SET nonce = 'another-nonce' WHERE state_hash = $1`, [hash]);
      const res = await fromBrowser(a, back);
      expectError(res, 400, 'oauth_error');
      expect(res.body.message).toMatch(/nonce/);
      await expectNothingCreated(who);
    });

    it('answers 400 oauth_error when the code was issued without our PKCE challenge', async () => {
      const who = account();
      const back = await atProvider(await authorize(a), who.sub);
      const hash = createHash('sha256').update(back.searchParams.get('state')!).digest('base64url');
      await db.query(`UPDATE oauth_states SET code_verifier = $2 WHERE state_hash = $1`, [
        hash,
        randomBytes(32).toString('base64url'),
      ]);
      expectError(await fromBrowser(a, back), 400, 'oauth_error');
      await expectNothingCreated(who);
    });

    it.each([
      ['a wrong nonce', (c: JWTPayload) => ({ ...c, nonce: 'forged' }), /nonce/],
      ['a wrong aud', (c: JWTPayload) => ({ ...c, aud: 'someone-else' }), /aud/],
      ['a wrong iss', (c: JWTPayload) => ({ ...c, iss: 'https://evil.example' }), /iss/],
      [
        'an expired ID token',
        (c: JWTPayload) => ({
          ...c,
          iat: Math.floor(Date.now() / 1000) - 7200,
          exp: Math.floor(Date.now() / 1000) - 3600,
        }),
        /exp/,
      ],
    ])('answers 400 oauth_error for an ID token with %s', async (_case, change, reason) => {
      const who = account();
      op.rewriteIdToken(change);
      const res = await signIn(who.sub);
      expectError(res, 400, 'oauth_error');
      expect(res.body.message).toMatch(reason);
      await expectNothingCreated(who);
    });

    it('answers 400 oauth_error for an ID token whose signature does not verify', async () => {
      const who = account();
      const { privateKey } = await generateKeyPair('RS256');
      op.rewriteIdToken((c) => c, privateKey);
      const res = await signIn(who.sub);
      expectError(res, 400, 'oauth_error');
      await expectNothingCreated(who);
    });

    it("answers 400 oauth_error when the provider's token endpoint cannot be reached", async () => {
      const who = account();
      op.tokenHook = (ctx) => {
        ctx.req.socket.destroy();
      };
      const res = await signIn(who.sub);
      expectError(res, 400, 'oauth_error');
      await expectNothingCreated(who);
    });
  });
});
