import { createHash } from 'node:crypto';
import {
  FakeOAuthRepository,
  FakeProviderClient,
  FakeProviders,
  FakeServiceSecrets,
} from '../../../../test/fakes/oauth.fake';
import { fakeMfaChallenges } from '../../../../test/fakes/mfa-challenges.fake';
import { FakeSessionsService } from '../../../../test/fakes/sessions.service.fake';
import { standIn } from '../../../../test/fakes/stand-in';
import { FakeUsersRepository } from '../../../../test/fakes/users.repository.fake';
import { makeOAuthAccount } from '../../../../test/factories/oauth-account';
import { makeUser } from '../../../../test/factories/user';
import { codeOf } from '../../../../test/support/refusal';
import { loadConfig } from '../config/app-config';
import { ProviderIdentity } from './providers/oauth-provider.client';
import { ProviderTokenCipher } from './provider-token.cipher';
import { OAuthService, VerifiedCallback } from './oauth.service';

const REDIRECT = 'https://app.example/signed-in';
const client = { userAgent: 'jest', ip: '192.0.2.1' };
/** The starting browser's binding cookie. */
const BINDING = 'b'.repeat(43);
const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

describe('OAuthService', () => {
  let users: FakeUsersRepository;
  let repository: FakeOAuthRepository;
  let provider: FakeProviderClient;
  let sessions: FakeSessionsService;
  let cipher: ProviderTokenCipher;
  /** Users with TOTP: a sign-in of theirs gets the MFA challenge (first factor `fed`). */
  const withTotp = new Set<string>();
  const challenges = fakeMfaChallenges(withTotp);

  function oauthService(env: Record<string, string> = {}): OAuthService {
    const config = loadConfig({ APP_URL: 'https://auth.example', OAUTH_ALLOWED_REDIRECTS: REDIRECT, ...env });
    const providers = new FakeProviders([provider, new FakeProviderClient('github', 'GitHub')]);
    return new OAuthService(
      standIn(providers),
      standIn(repository),
      standIn(users),
      standIn(sessions),
      cipher,
      standIn(challenges),
      config,
    );
  }

  beforeEach(() => {
    users = new FakeUsersRepository();
    repository = new FakeOAuthRepository(users);
    provider = new FakeProviderClient('acme', 'Acme');
    sessions = new FakeSessionsService();
    cipher = new ProviderTokenCipher(standIn(new FakeServiceSecrets()));
  });

  /** Starts a flow and answers the state the provider would send back. */
  async function startFlow(service: OAuthService, linkUserId?: string): Promise<string> {
    await service.authorizationUrl('acme', REDIRECT, BINDING, linkUserId);
    const state = provider.requests.at(-1)?.state;
    if (!state) throw new Error('no authorization request');
    return state;
  }

  const callback = (
    identity: Partial<ProviderIdentity>,
    linkUserId: string | null = null,
  ): VerifiedCallback => ({
    provider: 'acme',
    identity: { providerAccountId: 'acct-1', email: null, emailVerified: false, name: null, ...identity },
    tokens: { accessToken: 'provider-access-token', refreshToken: 'provider-refresh-token' },
    redirectUri: REDIRECT,
    linkUserId,
  });

  describe('authorization request', () => {
    it('keeps state, nonce and PKCE verifier server-side: the state by its hash, the verifier behind its S256 challenge', async () => {
      const service = oauthService();
      const url = await service.authorizationUrl('acme', REDIRECT, BINDING);
      const [request] = provider.requests;
      const [[stateHash, row] = []] = repository.states;

      expect(url).toBe(`https://acme.example/authorize?state=${request?.state}`);
      expect(request?.callbackUrl).toBe('https://auth.example/api/v1/auth/oauth/acme/callback');
      expect(stateHash).toBe(sha256(request?.state ?? ''));
      expect(row).toEqual(
        expect.objectContaining({
          provider: 'acme',
          nonce: request?.nonce,
          redirectUri: REDIRECT,
          linkUserId: null,
        }),
      );
      expect(request?.codeChallenge).toBe(sha256(row?.codeVerifier ?? ''));
      expect(new Set([request?.state, request?.nonce, row?.codeVerifier]).size).toBe(3);
    });

    it('refuses a redirect that is not allowed, and stores nothing', async () => {
      const service = oauthService();
      for (const redirect of ['https://evil.example/', `${REDIRECT}/more`, undefined, 42]) {
        expect(await codeOf(service.authorizationUrl('acme', redirect, BINDING))).toBe(
          'invalid_redirect_uri',
        );
      }
      expect(repository.states.size).toBe(0);
    });

    it('answers unknown_provider for a provider that is not configured', async () => {
      expect(await codeOf(oauthService().authorizationUrl('nope', REDIRECT, BINDING))).toBe(
        'unknown_provider',
      );
    });

    it('refuses to start linking a provider the user already has linked', async () => {
      const ada = users.add(makeUser());
      await repository.link(ada.id, makeOAuthAccount({ providerAccountId: 'x' }));
      expect(await codeOf(oauthService().authorizationUrl('acme', REDIRECT, BINDING, ada.id))).toBe(
        'account_already_linked',
      );
      expect(provider.requests).toEqual([]);
    });
  });

  describe('callback', () => {
    it('spends the state: a second callback with it is refused', async () => {
      const service = oauthService();
      const state = await startFlow(service);
      const verified = await service.verifyCallback('acme', { state, code: 'c1' }, BINDING);
      expect(verified).toEqual(
        expect.objectContaining({ provider: 'acme', redirectUri: REDIRECT, linkUserId: null }),
      );
      expect(await codeOf(service.verifyCallback('acme', { state, code: 'c1' }, BINDING))).toBe(
        'invalid_oauth_state',
      );
    });

    it('hands the provider the stored nonce and PKCE verifier, and the query as sent', async () => {
      const service = oauthService();
      const state = await startFlow(service);
      const [[, row] = []] = repository.states;
      await service.verifyCallback(
        'acme',
        {
          state,
          code: 'c1',
          iss: 'https://acme.example',
          ignored: ['a', 'b'],
        },
        BINDING,
      );
      const [response] = provider.responses;
      expect(response).toEqual(
        expect.objectContaining({ state, nonce: row?.nonce, codeVerifier: row?.codeVerifier }),
      );
      expect(response?.params.toString()).toBe(
        new URLSearchParams({ state, code: 'c1', iss: 'https://acme.example' }).toString(),
      );
    });

    it("refuses a missing, unknown, expired or other provider's state", async () => {
      const service = oauthService();
      expect(await codeOf(service.verifyCallback('acme', {}, BINDING))).toBe('invalid_oauth_state');
      expect(await codeOf(service.verifyCallback('acme', { state: 'forged' }, BINDING))).toBe(
        'invalid_oauth_state',
      );
      expect(await codeOf(service.verifyCallback('acme', { state: 'x'.repeat(513) }, BINDING))).toBe(
        'invalid_oauth_state',
      );

      const forGithub = await startFlow(service);
      expect(await codeOf(service.verifyCallback('github', { state: forGithub }, BINDING))).toBe(
        'invalid_oauth_state',
      );

      const expired = await startFlow(service);
      const row = repository.states.get(sha256(expired));
      if (!row) throw new Error('state not stored');
      row.expiresAt = new Date(Date.now() - 1);
      expect(await codeOf(service.verifyCallback('acme', { state: expired }, BINDING))).toBe(
        'invalid_oauth_state',
      );
      expect(provider.responses).toEqual([]);
    });

    it('refuses a callback from another browser than the one that started the flow, with the state spent', async () => {
      const service = oauthService();
      for (const other of [undefined, 'c'.repeat(43)]) {
        const state = await startFlow(service);
        expect(await codeOf(service.verifyCallback('acme', { state, code: 'c1' }, other))).toBe(
          'invalid_oauth_state',
        );
        expect(await codeOf(service.verifyCallback('acme', { state, code: 'c1' }, BINDING))).toBe(
          'invalid_oauth_state',
        );
      }
      expect(provider.responses).toEqual([]);
    });

    it("turns the provider's error answer into oauth_error, with the state spent", async () => {
      const service = oauthService();
      const state = await startFlow(service);
      expect(await codeOf(service.verifyCallback('acme', { state, error: 'access_denied' }, BINDING))).toBe(
        'oauth_error',
      );
      expect(repository.states.size).toBe(0);
      expect(provider.responses).toEqual([]);
    });
  });

  describe('account rules', () => {
    it('signs in the owner of a linked provider account, with fresh tokens stored sealed', async () => {
      const ada = users.add(makeUser());
      await repository.link(ada.id, makeOAuthAccount());

      const outcome = await oauthService().resolveAccount(callback({ email: 'ada@acme.example' }));
      expect(outcome).toEqual({ mode: 'sign_in', user: ada, redirectUri: REDIRECT });
      const [account] = repository.accounts;
      expect(account?.email).toBe('ada@acme.example');
      expect(account?.accessTokenEnc).not.toContain('provider-access-token');
      expect(await cipher.open(account?.accessTokenEnc ?? null)).toBe('provider-access-token');
      expect(await cipher.open(account?.refreshTokenEnc ?? null)).toBe('provider-refresh-token');
    });

    it("creates a user for a new provider account, taking the provider's word on the email only as it states it", async () => {
      const outcome = await oauthService().resolveAccount(
        callback({ email: 'new@acme.example', emailVerified: true, name: 'New' }),
      );
      expect(outcome.mode).toBe('sign_in');
      expect(outcome.user).toEqual(
        expect.objectContaining({ email: 'new@acme.example', name: 'New', emailVerified: true }),
      );
      expect(users.passwordHashOf(outcome.user.id)).toBeNull();
      expect(repository.accounts).toEqual([
        expect.objectContaining({ userId: outcome.user.id, providerAccountId: 'acct-1' }),
      ]);
    });

    it('refuses a new account without an email', async () => {
      expect(await codeOf(oauthService().resolveAccount(callback({ email: null })))).toBe('oauth_error');
      expect(users.count()).toBe(0);
    });

    it('joins an existing account by email only when both sides verified it and the policy allows', async () => {
      const verified = users.add(makeUser({ email: 'ada@example.test', emailVerified: true }));
      const unverified = users.add(makeUser({ email: 'bob@example.test', emailVerified: false }));

      // The provider does not vouch for the address.
      expect(
        await codeOf(
          oauthService().resolveAccount(callback({ email: verified.email, emailVerified: false })),
        ),
      ).toBe('email_taken');
      // The account here never proved it owns the address.
      expect(
        await codeOf(
          oauthService().resolveAccount(
            callback({ providerAccountId: 'b', email: unverified.email, emailVerified: true }),
          ),
        ),
      ).toBe('email_taken');
      // Both vouch, but the policy is off.
      expect(
        await codeOf(
          oauthService({ OAUTH_LINK_VERIFIED_EMAIL: 'false' }).resolveAccount(
            callback({ email: verified.email, emailVerified: true }),
          ),
        ),
      ).toBe('email_taken');
      expect(repository.accounts).toEqual([]);

      const joined = await oauthService().resolveAccount(
        callback({ email: verified.email, emailVerified: true }),
      );
      expect(joined).toEqual({ mode: 'sign_in', user: verified, redirectUri: REDIRECT });
      expect(repository.accounts).toEqual([expect.objectContaining({ userId: verified.id })]);
    });

    it("links to the signed-in user, and refuses a provider account that is someone else's", async () => {
      const [ada, bob] = [users.add(makeUser()), users.add(makeUser())];
      const linked = await oauthService().resolveAccount(callback({}, ada.id));
      expect(linked).toEqual({ mode: 'link', user: ada, redirectUri: REDIRECT });

      expect(await codeOf(oauthService().resolveAccount(callback({}, bob.id)))).toBe(
        'account_already_linked',
      );
      expect(repository.accounts.map((a) => a.userId)).toEqual([ada.id]);
    });

    it('refuses to link for a user who has gone meanwhile', async () => {
      expect(await codeOf(oauthService().resolveAccount(callback({}, makeUser().id)))).toBe(
        'invalid_oauth_state',
      );
    });

    it('starts a session for a sign-in, none for a link (the caller keeps theirs)', async () => {
      const ada = users.add(makeUser());
      const service = oauthService();
      expect(
        await service.finish({ mode: 'link', user: ada, redirectUri: REDIRECT }, client),
      ).toBeUndefined();
      expect(sessions.started).toEqual([]);
      const tokens = await service.finish({ mode: 'sign_in', user: ada, redirectUri: REDIRECT }, client);
      expect(tokens).toEqual(expect.objectContaining({ user: ada }));
      expect(sessions.started).toEqual([{ user: ada, client, options: { method: 'oauth' } }]);
    });

    it('answers the MFA challenge (first factor fed) for a user with TOTP, and starts no session', async () => {
      const ada = users.add(makeUser());
      withTotp.add(ada.id);
      const answer = await oauthService().finish(
        { mode: 'sign_in', user: ada, redirectUri: REDIRECT },
        client,
      );
      expect(answer).toEqual(expect.objectContaining({ mfaRequired: true, mfaToken: `fed:${ada.id}` }));
      expect(sessions.started).toEqual([]);
    });
  });

  describe('unlink', () => {
    it('refuses to remove the last way to sign in, and answers oauth_account_not_found for nothing linked', async () => {
      const service = oauthService();
      const oauthOnly = users.add(makeUser(), null);
      await repository.link(oauthOnly.id, makeOAuthAccount());

      expect(await codeOf(service.unlink(oauthOnly.id, 'acme'))).toBe('last_login_method');
      expect(await codeOf(service.unlink(oauthOnly.id, 'github'))).toBe('oauth_account_not_found');

      users.setPasswordHash(oauthOnly.id, 'hashed:a password now');
      await service.unlink(oauthOnly.id, 'acme');
      expect(await service.accounts(oauthOnly.id)).toEqual([]);
    });
  });
});
