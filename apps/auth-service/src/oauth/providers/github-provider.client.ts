import { Logger } from '@nestjs/common';
import type { OAuthProviderConfig } from '../../config/app-config';
import {
  AuthorizationRequest,
  AuthorizationResponse,
  normalizeProviderEmail,
  OAuthProviderClient,
  oauthError,
  ProviderIdentity,
  ProviderTokens,
  reasonOf,
} from './oauth-provider.client';

const TIMEOUT_MS = 10_000;

interface GitHubUser {
  id: number;
  login: string;
  name: string | null;
  email: string | null;
}

interface GitHubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
}

/**
 * GitHub, which is OAuth 2 but not OpenID Connect: the web flow at `{webUrl}/login/oauth/*`
 * (with PKCE S256 and `state`; there is no ID token, so no nonce), then the REST API's
 * `GET /user` for the account id and `GET /user/emails` for a verified address.
 */
export class GitHubProviderClient implements OAuthProviderClient {
  private readonly logger: Logger;

  constructor(private readonly config: OAuthProviderConfig) {
    this.logger = new Logger(`OAuth:${config.id}`);
  }

  get id(): string {
    return this.config.id;
  }

  get name(): string {
    return this.config.name;
  }

  authorizationUrl(request: AuthorizationRequest): Promise<URL> {
    const url = new URL(`${this.config.webUrl}/login/oauth/authorize`);
    url.search = new URLSearchParams({
      client_id: this.config.clientId,
      redirect_uri: request.callbackUrl,
      scope: this.config.scopes.join(' '),
      state: request.state,
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256',
      allow_signup: 'true',
    }).toString();
    return Promise.resolve(url);
  }

  async complete(
    response: AuthorizationResponse,
  ): Promise<{ identity: ProviderIdentity; tokens: ProviderTokens }> {
    const code = response.params.get('code');
    if (!code) throw oauthError('The provider returned no authorization code');
    const token = await this.call<{
      access_token?: string;
      refresh_token?: string;
      error?: string;
      error_description?: string;
    }>(`${this.config.webUrl}/login/oauth/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: this.config.clientId,
        client_secret: this.config.clientSecret,
        code,
        redirect_uri: response.callbackUrl,
        code_verifier: response.codeVerifier,
      }).toString(),
    });
    // GitHub answers a refused exchange with 200 and an `error` field.
    if (token.error || typeof token.access_token !== 'string' || !token.access_token) {
      throw oauthError(
        `The provider refused the code exchange: ${token.error ?? 'no access token'}` +
          (token.error_description ? ` (${token.error_description.slice(0, 200)})` : ''),
      );
    }
    const auth = { authorization: `Bearer ${token.access_token}` };
    const user = await this.call<GitHubUser>(`${this.config.apiUrl}/user`, { headers: auth });
    if (typeof user?.id !== 'number' && typeof user?.id !== 'string')
      throw oauthError('The provider returned no account id');
    const emails = await this.call<GitHubEmail[]>(`${this.config.apiUrl}/user/emails`, {
      headers: auth,
    }).catch((error: unknown) => {
      // Without the user:email scope only the public profile email is known, and as unverified.
      this.logger.warn(`GET /user/emails failed: ${reasonOf(error)}`);
      return [] as GitHubEmail[];
    });
    const list = Array.isArray(emails) ? emails : [];
    const verified = list.find((e) => e.primary && e.verified) ?? list.find((e) => e.verified);
    const fallback = list.find((e) => e.primary)?.email ?? user.email;
    return {
      identity: {
        providerAccountId: String(user.id),
        email: normalizeProviderEmail(verified?.email ?? fallback),
        emailVerified: verified !== undefined,
        name: (user.name ?? user.login ?? '').trim().slice(0, 100) || null,
      },
      tokens: { accessToken: token.access_token, refreshToken: token.refresh_token },
    };
  }

  private async call<T>(url: string, init: RequestInit): Promise<T> {
    let res: Response;
    try {
      res = await fetch(url, {
        ...init,
        headers: {
          accept: 'application/json',
          'user-agent': 'auth-service',
          'x-github-api-version': '2022-11-28',
          ...(init.headers as Record<string, string>),
        },
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (error) {
      this.logger.warn(`${new URL(url).pathname} failed: ${reasonOf(error)}`);
      throw oauthError(`The provider could not be reached: ${reasonOf(error)}`);
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      throw oauthError(`The provider answered ${res.status} to ${new URL(url).pathname}`);
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw oauthError(`The provider's answer to ${new URL(url).pathname} is not JSON`);
    }
  }
}
