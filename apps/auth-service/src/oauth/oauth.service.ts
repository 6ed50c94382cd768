import { Inject, Injectable } from '@nestjs/common';
import type { EventClient } from '../events/event-types';
import { createHash, randomBytes } from 'node:crypto';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ClientInfo, SessionsService, TokenResponse } from '../sessions/sessions.service';
import { PublicUser } from '../users/public-user';
import { UsersRepository } from '../users/users.repository';
import { NewOAuthAccount, OAuthAccountView, OAuthRepository } from './oauth.repository';
import { oauthError, ProviderIdentity, ProviderTokens } from './providers/oauth-provider.client';
import { OAuthProvidersRegistry } from './providers/oauth-providers.registry';
import { apiPath } from '../http/api-prefix';
import { ProviderTokenCipher } from './provider-token.cipher';
import type { MfaChallenge } from '../sign-in/mfa-challenge';
import { MfaChallengeService } from '../sign-in/mfa-challenge.service';
import { bindingHash, bindingMatches } from './oauth-binding';

/** What the provider's answer proved, once state, code and ID token all checked out. */
export interface VerifiedCallback {
  provider: string;
  identity: ProviderIdentity;
  tokens: ProviderTokens;
  redirectUri: string;
  linkUserId: string | null;
  /** The browser that came back from the provider: its events' IP and user agent. */
  client?: EventClient;
}

/** Who the provider account belongs to now, and where the browser goes next. */
export interface OAuthOutcome {
  mode: 'sign_in' | 'link';
  user: PublicUser;
  redirectUri: string;
}

const random = () => randomBytes(32).toString('base64url');
const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

/**
 * The OAuth / OpenID Connect flows: authorization requests (state, nonce and PKCE kept
 * server-side, single use), the callback, and the account rules (sign in, sign up, link, unlink).
 */
@Injectable()
export class OAuthService {
  constructor(
    private readonly providers: OAuthProvidersRegistry,
    private readonly repository: OAuthRepository,
    private readonly users: UsersRepository,
    private readonly sessions: SessionsService,
    private readonly cipher: ProviderTokenCipher,
    private readonly mfa: MfaChallengeService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  list(): { id: string; name: string }[] {
    return this.providers.list().map(({ id, name }) => ({ id, name }));
  }

  /**
   * The provider's authorization URL, for the browser holding `binding` (its binding cookie:
   * only that browser can complete the flow); `linkUserId` makes the flow link instead of sign in.
   */
  async authorizationUrl(
    providerId: string,
    redirectUri: unknown,
    binding: string,
    linkUserId?: string,
  ): Promise<string> {
    const provider = this.providers.get(providerId);
    if (typeof redirectUri !== 'string' || !this.config.oauth.allowedRedirects.includes(redirectUri)) {
      throw new ApiError('invalid_redirect_uri', 'redirect_uri is not one of the allowed redirects');
    }
    if (linkUserId && (await this.repository.hasProvider(linkUserId, providerId))) {
      throw alreadyLinked(`Your account already has a ${provider.name} account linked`);
    }
    const state = random();
    const nonce = random();
    const codeVerifier = random();
    // Built (and the provider discovered) before anything is stored: an unreachable provider leaves no row.
    const url = await provider.authorizationUrl({
      callbackUrl: this.callbackUrl(providerId),
      state,
      nonce,
      codeChallenge: sha256(codeVerifier),
    });
    await this.repository.createState(sha256(state), {
      provider: providerId,
      codeVerifier,
      nonce,
      redirectUri,
      linkUserId: linkUserId ?? null,
      bindingHash: bindingHash(binding),
      expiresAt: new Date(Date.now() + this.config.oauth.stateTtlSeconds * 1000),
    });
    return url.href;
  }

  /**
   * The callback's first half: spends the state (whatever happens next), then has the provider
   * client exchange the code and verify what comes back. Writes nothing else.
   */
  async verifyCallback(
    providerId: string,
    query: Record<string, unknown>,
    binding: string | undefined,
  ): Promise<VerifiedCallback> {
    const provider = this.providers.get(providerId);
    const state = typeof query.state === 'string' && query.state.length <= 512 ? query.state : undefined;
    const row = state ? await this.repository.consumeState(sha256(state)) : null;
    if (!state || !row || row.provider !== providerId || row.expiresAt.getTime() <= Date.now()) {
      throw new ApiError(
        'invalid_oauth_state',
        'The OAuth state is missing, unknown, expired or already used; start the sign-in again',
      );
    }
    // RFC 9700 §4.7: a callback URL handed to another browser (login CSRF), or a link's
    // authorizeUrl opened in someone else's, is refused; the state is spent all the same.
    if (!bindingMatches(binding, row.bindingHash)) {
      throw new ApiError(
        'invalid_oauth_state',
        'This sign-in was not started in this browser; start it again from here',
      );
    }
    if (query.error !== undefined) {
      const description = typeof query.error_description === 'string' ? `: ${query.error_description}` : '';
      throw oauthError(
        `The provider answered ${parameterText(query.error).slice(0, 64)}${description.slice(0, 200)}`,
      );
    }
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query))
      if (typeof value === 'string') params.append(key, value);
    const { identity, tokens } = await provider.complete({
      callbackUrl: this.callbackUrl(providerId),
      params,
      state,
      nonce: row.nonce,
      codeVerifier: row.codeVerifier,
    });
    return {
      provider: providerId,
      identity,
      tokens,
      redirectUri: row.redirectUri,
      linkUserId: row.linkUserId,
    };
  }

  /**
   * The callback's second half: which user the provider account signs in, created or linked as
   * the policy says (README, "OAuth account linking").
   */
  async resolveAccount(callback: VerifiedCallback): Promise<OAuthOutcome> {
    const { provider, identity, redirectUri } = callback;
    const account = await this.accountRow(callback);
    const ownerId = await this.repository.findUserId(provider, identity.providerAccountId);

    if (callback.linkUserId) {
      const user = await this.users.getById(callback.linkUserId);
      if (!user) throw new ApiError('invalid_oauth_state', 'The account to link no longer exists');
      if (ownerId && ownerId !== user.id) {
        throw alreadyLinked('This provider account is already linked to another user');
      }
      if (ownerId === user.id) await this.repository.updateOnSignIn(account);
      else if (!(await this.repository.link(user.id, account, callback.client))) {
        throw alreadyLinked('Your account already has an account of this provider linked');
      }
      return { mode: 'link', user, redirectUri };
    }

    const owner = ownerId ? await this.users.getById(ownerId) : null;
    if (owner) {
      await this.repository.updateOnSignIn(account);
      return { mode: 'sign_in', user: owner, redirectUri };
    }
    if (!identity.email) {
      throw oauthError('The provider did not share an email address, which a new account needs');
    }
    const existing = await this.users.getByEmail(identity.email);
    if (existing) {
      // Joining an existing user needs both sides to vouch for the address (see README).
      if (!this.config.oauth.linkVerifiedEmail || !identity.emailVerified || !existing.emailVerified) {
        throw new ApiError(
          'email_taken',
          'An account with this email already exists: sign in to it, then link this provider from your account',
        );
      }
      if (!(await this.repository.link(existing.id, account, callback.client))) {
        throw alreadyLinked(
          'The account with this email already has another account of this provider linked',
        );
      }
      return { mode: 'sign_in', user: existing, redirectUri };
    }
    const created = await this.repository.createUserWithAccount(
      { email: identity.email, name: identity.name, emailVerified: identity.emailVerified },
      account,
      callback.client,
    );
    if (created) return { mode: 'sign_in', user: created, redirectUri };
    // Lost a race: the same provider account (a double-clicked callback) or the email was taken meanwhile.
    const winner = await this.repository.findUserId(provider, identity.providerAccountId);
    const user = winner ? await this.users.getById(winner) : null;
    if (user) return { mode: 'sign_in', user, redirectUri };
    throw new ApiError('email_taken', 'An account with this email already exists');
  }

  /**
   * Sign-in ends with a new session, or with the MFA challenge for an account with TOTP (the
   * provider is the first factor, `fed`); linking keeps the caller's own session.
   */
  async finish(outcome: OAuthOutcome, client: ClientInfo): Promise<TokenResponse | MfaChallenge | undefined> {
    if (outcome.mode !== 'sign_in') return undefined;
    if (await this.mfa.required(outcome.user.id)) return this.mfa.start(outcome.user.id, 'fed');
    return this.sessions.start(outcome.user, client, { method: 'oauth' });
  }

  accounts(userId: string): Promise<OAuthAccountView[]> {
    return this.repository.listForUser(userId);
  }

  async unlink(userId: string, provider: string, client: EventClient | null = null): Promise<void> {
    const result = await this.repository.unlink(userId, provider, client);
    if (result === 'not_found') {
      throw new ApiError('oauth_account_not_found', `No ${provider.slice(0, 64)} account is linked to you`);
    }
    if (result === 'last_login_method') {
      throw new ApiError(
        'last_login_method',
        'This is your only way to sign in: set a password or link another provider first',
      );
    }
  }

  get refreshTtlSeconds(): number {
    return this.config.jwt.refreshTtl;
  }

  get stateTtlSeconds(): number {
    return this.config.oauth.stateTtlSeconds;
  }

  get cookieSecure(): boolean {
    return this.config.http.cookieSecure;
  }

  /** This service's callback for the provider, as registered with it: `{APP_URL}/{API_PREFIX}/auth/oauth/{id}/callback`. */
  callbackUrl(providerId: string): string {
    return this.config.http.appUrl + apiPath(`auth/oauth/${providerId}/callback`);
  }

  private async accountRow(callback: VerifiedCallback): Promise<NewOAuthAccount> {
    return {
      provider: callback.provider,
      providerAccountId: callback.identity.providerAccountId,
      email: callback.identity.email,
      accessTokenEnc: await this.cipher.seal(callback.tokens.accessToken),
      refreshTokenEnc: await this.cipher.seal(callback.tokens.refreshToken),
    };
  }
}

const alreadyLinked = (message: string) => new ApiError('account_already_linked', message);

/** A query parameter as text: the string, or a repeated parameter's values joined by commas. */
function parameterText(value: unknown): string {
  return String(value);
}
