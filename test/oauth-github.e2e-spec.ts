import { createHash, randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { expectError, uniqueEmail, UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { onlyRow } from './support/present';
import { beforeFirst } from '../apps/auth-service/src/common/before-first';

/**
 * GitHub sign-in against a local stand-in that follows GitHub's documented endpoints and answers:
 * the web flow (`/login/oauth/authorize`, `/login/oauth/access_token`, refusals as 200 + `error`)
 * and the REST API (`GET /user`, `GET /user/emails`) under `/api/v3`, as GitHub Enterprise serves it.
 */

const APP_URL = 'http://auth.e2e.test';
const FRONTEND = 'http://app.e2e.test/oauth/done';
const CLIENT = { id: 'Iv1.e2e0123456789', secret: 'github-client-secret-0123456789abcdef' };
const CALLBACK = `${APP_URL}/api/v1/auth/oauth/github/callback`;

interface GitHubAccount {
  id: number;
  login: string;
  name: string | null;
  email: string | null;
  emails: { email: string; primary: boolean; verified: boolean; visibility: string | null }[];
}

class GitHubStandIn {
  /** Who is signed in at "github.com" when the browser arrives at /login/oauth/authorize. */
  signedIn?: GitHubAccount;
  /** The user clicks "Cancel" on the authorization page. */
  deny = false;
  /** Makes GET /user answer 500. */
  apiDown = false;
  readonly requests: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[] =
    [];
  private readonly codes = new Map<
    string,
    { account: GitHubAccount; challenge: string; redirectUri: string; used: boolean }
  >();
  private readonly tokens = new Map<string, GitHubAccount>();

  private constructor(private readonly server: Server) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  static async start(): Promise<GitHubStandIn> {
    let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void = () => undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const standIn = new GitHubStandIn(server);
    handler = (req, res, body) => standIn.handle(req, res, body);
    return standIn;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push({ method: req.method ?? '', path: url.pathname, headers: req.headers, body });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(value));
    };
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /login/oauth/authorize') {
      const q = url.searchParams;
      if (q.get('client_id') !== CLIENT.id || q.get('redirect_uri') !== CALLBACK) {
        res.writeHead(400).end('The redirect_uri is not associated with this application.');
        return;
      }
      const back = new URL(CALLBACK);
      if (this.deny || !this.signedIn) {
        back.searchParams.set('error', 'access_denied');
        back.searchParams.set('error_description', 'The user has denied your application access.');
        back.searchParams.set('error_uri', 'https://docs.github.com/apps/troubleshooting');
      } else {
        const code = randomBytes(10).toString('hex');
        this.codes.set(code, {
          account: this.signedIn,
          challenge: q.get('code_challenge') ?? '',
          redirectUri: q.get('redirect_uri')!,
          used: false,
        });
        back.searchParams.set('code', code);
      }
      back.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    if (route === 'POST /login/oauth/access_token') {
      const form = new URLSearchParams(body);
      const grant = this.codes.get(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      // GitHub answers these with 200 and an error body.
      if (form.get('client_id') !== CLIENT.id || form.get('client_secret') !== CLIENT.secret) {
        return json(200, {
          error: 'incorrect_client_credentials',
          error_description: 'The client_id and/or client_secret passed are incorrect.',
        });
      }
      if (
        !grant ||
        grant.used ||
        grant.redirectUri !== form.get('redirect_uri') ||
        grant.challenge !== challenge
      ) {
        return json(200, {
          error: 'bad_verification_code',
          error_description: 'The code passed is incorrect or expired.',
          error_uri:
            'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code',
        });
      }
      grant.used = true;
      const token = `gho_${randomBytes(18).toString('hex')}`;
      this.tokens.set(token, grant.account);
      return json(200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
    }
    const account = this.tokens.get((req.headers.authorization ?? '').replace(/^(Bearer|token) /, ''));
    if (url.pathname.startsWith('/api/v3/') && !account) {
      return json(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    }
    if (route === 'GET /api/v3/user' && account) {
      if (this.apiDown) return json(500, { message: 'Server Error' });
      return json(200, {
        login: account.login,
        id: account.id,
        node_id: `U_${account.id}`,
        avatar_url: `https://avatars.githubusercontent.com/u/${account.id}?v=4`,
        type: 'User',
        name: account.name,
        email: account.email,
      });
    }
    if (route === 'GET /api/v3/user/emails' && account) return json(200, account.emails);
    json(404, { message: 'Not Found' });
  }
}

describe('oauth: GitHub (against a local stand-in of its endpoints)', () => {
  let gh: GitHubStandIn;
  let a: Instance;
  let db: Client;
  let nextId = 100_000 + Math.floor(Math.random() * 1_000_000);

  beforeAll(async () => {
    gh = await GitHubStandIn.start();
    a = await startInstance({
      APP_URL,
      OAUTH_PROVIDERS: 'github',
      OAUTH_GITHUB_CLIENT_ID: CLIENT.id,
      OAUTH_GITHUB_CLIENT_SECRET: CLIENT.secret,
      OAUTH_GITHUB_WEB_URL: gh.url,
      OAUTH_GITHUB_API_URL: `${gh.url}/api/v3`,
      OAUTH_ALLOWED_REDIRECTS: FRONTEND,
    });
    db = new Client({ connectionString: process.env.E2E_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await a?.close();
    await gh?.stop();
    await db?.end();
  });
  afterEach(() => {
    gh.deny = false;
    gh.apiDown = false;
  });

  function githubAccount(overrides: Partial<GitHubAccount> = {}): GitHubAccount {
    nextId += 1;
    const email = uniqueEmail('gh');
    return {
      id: nextId,
      login: `octocat-${nextId}`,
      name: 'The Octocat',
      email: null,
      emails: [{ email, primary: true, verified: true, visibility: 'private' }],
      ...overrides,
    };
  }

  /** The primary email of an account, the one the service signs up and links with. */
  function primaryEmail(account: GitHubAccount): string | undefined {
    return account.emails.find((e) => e.primary)?.email;
  }

  /** The browser's trip to GitHub and back: answers the URL GitHub redirects to (our callback). */
  async function atGitHub(authorizeUrl: string): Promise<URL> {
    const res = await fetch(authorizeUrl, { redirect: 'manual' });
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location')!);
  }

  async function authorizeUrl(): Promise<string> {
    const res = await a.http.get(
      `/api/v1/auth/oauth/github/authorize?redirect_uri=${encodeURIComponent(FRONTEND)}`,
    );
    expect(res.status).toBe(302);
    keepBinding(res);
    return res.headers.get('location')!;
  }

  /** The one browser these tests play: the binding cookie its last OAuth start set. */
  let binding = '';
  function keepBinding(res: { headers: Headers }): void {
    binding = beforeFirst(
      res.headers.getSetCookie().find((c) => c.startsWith('oauth_binding='))!,
      ';',
    );
  }

  /** GitHub's redirect back to our callback, followed by that browser. */
  function callback(back: URL) {
    return a.http.get(back.pathname + back.search, { headers: { cookie: binding } });
  }

  async function signIn(account: GitHubAccount) {
    gh.signedIn = account;
    const back = await atGitHub(await authorizeUrl());
    return callback(back);
  }

  async function tokensAfter(callback: { headers: Headers }) {
    const cookie = callback.headers.getSetCookie().find((c) => c.startsWith('refresh_token='))!;
    const res = await a.http.post('/api/v1/auth/refresh', undefined, {
      headers: { cookie: beforeFirst(cookie, ';'), origin: APP_URL },
    });
    expect(res.status).toBe(200);
    return res.body;
  }

  const count = async (sql: string, params: unknown[]) =>
    Number(onlyRow((await db.query<{ n: string }>(sql, params)).rows).n);

  async function expectNothingCreated(account: GitHubAccount): Promise<void> {
    for (const { email } of account.emails) {
      expect(await count('SELECT count(*) AS n FROM users WHERE email = $1', [email])).toBe(0);
    }
    expect(
      await count(
        `SELECT count(*) AS n FROM oauth_accounts WHERE provider = 'github' AND provider_account_id = $1`,
        [String(account.id)],
      ),
    ).toBe(0);
  }

  it('lists GitHub as a provider', async () => {
    expect((await a.http.get('/api/v1/auth/oauth/providers')).body).toEqual([
      { id: 'github', name: 'GitHub' },
    ]);
  });

  it("redirects to GitHub's authorize endpoint with state and PKCE S256", async () => {
    const url = new URL(await authorizeUrl());
    expect(url.origin + url.pathname).toBe(`${gh.url}/login/oauth/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: CLIENT.id,
      redirect_uri: CALLBACK,
      scope: 'read:user user:email',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge_method: 'S256',
      allow_signup: 'true',
    });
  });

  it('signs a new user up with the primary verified email, then signs them in again', async () => {
    const account = githubAccount();
    const res = await signIn(account);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(FRONTEND);
    const tokens = await tokensAfter(res);
    expect(tokens.user).toEqual(
      expect.objectContaining({ email: primaryEmail(account), name: 'The Octocat', emailVerified: true }),
    );
    // What reached GitHub: the secret and the verifier at the token endpoint, the API asked as JSON.
    const exchange = gh.requests.filter((r) => r.path === '/login/oauth/access_token').at(-1)!;
    expect(exchange.headers.accept).toBe('application/json');
    expect(new URLSearchParams(exchange.body).get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const api = gh.requests.filter((r) => r.path === '/api/v3/user').at(-1)!;
    expect(api.headers.authorization).toMatch(/^Bearer gho_/);
    expect(api.headers['user-agent']).toBeTruthy();

    const row = await db.query(`SELECT * FROM oauth_accounts WHERE provider = 'github' AND user_id = $1`, [
      tokens.user.id,
    ]);
    expect(row.rows[0]).toMatchObject({
      provider_account_id: String(account.id),
      email: primaryEmail(account),
    });
    expect(row.rows[0].access_token_enc).toMatch(/^v1\./);
    expect(row.rows[0].access_token_enc).not.toContain('gho_');

    const again = await tokensAfter(await signIn(account));
    expect(again.user.id).toBe(tokens.user.id);
  });

  it('uses a verified secondary email when the primary one is not verified', async () => {
    const verified = uniqueEmail('gh-second');
    const account = githubAccount({
      emails: [
        { email: uniqueEmail('gh-primary'), primary: true, verified: false, visibility: 'public' },
        { email: verified, primary: false, verified: true, visibility: null },
      ],
    });
    const tokens = await tokensAfter(await signIn(account));
    expect(tokens.user).toEqual(expect.objectContaining({ email: verified, emailVerified: true }));
  });

  it('never joins an existing user on an unverified GitHub email (409 email_taken)', async () => {
    const user = await UserFactory.register(a.http);
    const account = githubAccount({
      emails: [{ email: user.email, primary: true, verified: false, visibility: 'public' }],
    });
    expectError(await signIn(account), 409, 'email_taken');
    expect(
      await count(`SELECT count(*) AS n FROM oauth_accounts WHERE provider_account_id = $1`, [
        String(account.id),
      ]),
    ).toBe(0);
  });

  it('links GitHub to a signed-in user and unlinks it (the user has a password)', async () => {
    const user = await UserFactory.register(a.http);
    const auth = { token: user.tokens.accessToken };
    const account = githubAccount();
    gh.signedIn = account;
    const link = await a.http.post('/api/v1/auth/oauth/github/link', { redirect_uri: FRONTEND }, auth);
    expect(link.status).toBe(200);
    keepBinding(link);
    const back = await atGitHub(link.body.authorizeUrl);
    const done = await callback(back);
    expect(done.status).toBe(302);
    expect((await a.http.get('/api/v1/auth/oauth/accounts', auth)).body).toEqual([
      {
        provider: 'github',
        providerAccountId: String(account.id),
        email: primaryEmail(account),
        linkedAt: expect.any(String),
      },
    ]);
    expect((await tokensAfter(await signIn(account))).user.id).toBe(user.tokens.user.id);
    expect((await a.http.delete('/api/v1/auth/oauth/accounts/github', auth)).status).toBe(204);
  });

  it('refuses to unlink GitHub from a user who has no other way to sign in (409 last_login_method)', async () => {
    const tokens = await tokensAfter(await signIn(githubAccount()));
    expectError(
      await a.http.delete('/api/v1/auth/oauth/accounts/github', { token: tokens.accessToken }),
      409,
      'last_login_method',
    );
  });

  describe('errors: 400 with a documented code, nothing created', () => {
    it('the user declines on GitHub (error=access_denied)', async () => {
      const account = githubAccount();
      gh.signedIn = account;
      gh.deny = true;
      const back = await atGitHub(await authorizeUrl());
      const res = await callback(back);
      expectError(res, 400, 'oauth_error');
      expect(res.body.message).toMatch(/access_denied/);
      await expectNothingCreated(account);
    });

    it('GitHub refuses the code (bad_verification_code, sent as 200)', async () => {
      const account = githubAccount();
      gh.signedIn = account;
      const back = await atGitHub(await authorizeUrl());
      back.searchParams.set('code', 'not-the-code');
      const res = await callback(back);
      expectError(res, 400, 'oauth_error');
      expect(res.body.message).toMatch(/bad_verification_code/);
      await expectNothingCreated(account);
    });

    it('the PKCE verifier does not match the challenge GitHub saw', async () => {
      const account = githubAccount();
      gh.signedIn = account;
      const back = await atGitHub(await authorizeUrl());
      const hash = createHash('sha256').update(back.searchParams.get('state')!).digest('base64url');
      await db.query('UPDATE oauth_states SET code_verifier = $2 WHERE state_hash = $1', [
        hash,
        'x'.repeat(43),
      ]);
      expectError(await callback(back), 400, 'oauth_error');
      await expectNothingCreated(account);
    });

    it("GitHub's API fails", async () => {
      const account = githubAccount();
      gh.apiDown = true;
      expectError(await signIn(account), 400, 'oauth_error');
      await expectNothingCreated(account);
    });

    it('a replayed, forged or missing state', async () => {
      const account = githubAccount();
      gh.signedIn = account;
      const back = await atGitHub(await authorizeUrl());
      expect((await callback(back)).status).toBe(302);
      expectError(await callback(back), 400, 'invalid_oauth_state');
      back.searchParams.set('state', 'forged');
      expectError(await callback(back), 400, 'invalid_oauth_state');
      back.searchParams.delete('state');
      expectError(await callback(back), 400, 'invalid_oauth_state');
    });
  });
});
