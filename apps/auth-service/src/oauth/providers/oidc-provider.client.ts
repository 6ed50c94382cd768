import { Logger } from '@nestjs/common';
import * as client from 'openid-client';
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

/** Seconds each request to the provider may take. */
const PROVIDER_TIMEOUT_SECONDS = 10;

/**
 * Any OpenID Connect provider, through discovery, with `openid-client` (a certified relying-party
 * library): PKCE S256, `state`, `nonce`, RFC 9207 `iss`, and the ID token's signature (JWKS),
 * `iss`, `aud`, `azp`, `nonce`, `exp` and `iat` all verified by the library.
 */
export class OidcProviderClient implements OAuthProviderClient {
  private readonly logger: Logger;
  private configuration?: Promise<client.Configuration>;

  constructor(private readonly config: OAuthProviderConfig) {
    this.logger = new Logger(`OAuth:${config.id}`);
  }

  get id(): string {
    return this.config.id;
  }

  get name(): string {
    return this.config.name;
  }

  async authorizationUrl(request: AuthorizationRequest): Promise<URL> {
    const configuration = await this.discover();
    return client.buildAuthorizationUrl(configuration, {
      response_type: 'code',
      redirect_uri: request.callbackUrl,
      scope: this.config.scopes.join(' '),
      state: request.state,
      nonce: request.nonce,
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256',
    });
  }

  async complete(
    response: AuthorizationResponse,
  ): Promise<{ identity: ProviderIdentity; tokens: ProviderTokens }> {
    const configuration = await this.discover();
    const currentUrl = new URL(response.callbackUrl);
    response.params.forEach((value, key) => currentUrl.searchParams.append(key, value));
    let grant: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      grant = await client.authorizationCodeGrant(configuration, currentUrl, {
        pkceCodeVerifier: response.codeVerifier,
        expectedState: response.state,
        expectedNonce: response.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      this.logger.warn(`code exchange failed: ${reasonOf(error)}`);
      throw oauthError(`The provider's answer could not be verified: ${reasonOf(error)}`);
    }
    const claims = grant.claims();
    if (!claims) throw oauthError('The provider returned no ID token');
    let email: unknown = claims.email;
    let emailVerified: unknown = claims.email_verified;
    let name: unknown = claims.name;
    // With the code flow many providers put profile claims in userinfo only.
    if (email === undefined) {
      try {
        const info = await client.fetchUserInfo(configuration, grant.access_token, claims.sub);
        ({ email, email_verified: emailVerified } = info);
        name = name ?? info.name;
      } catch (error) {
        this.logger.warn(`userinfo failed: ${reasonOf(error)}`);
        throw oauthError(`The provider's userinfo could not be read: ${reasonOf(error)}`);
      }
    }
    return {
      identity: {
        providerAccountId: claims.sub,
        email: normalizeProviderEmail(email),
        emailVerified: emailVerified === true || emailVerified === 'true',
        name: typeof name === 'string' && name.trim() ? name.trim().slice(0, 100) : null,
      },
      tokens: { accessToken: grant.access_token, refreshToken: grant.refresh_token },
    };
  }

  /** Discovery once per instance; a failure is not remembered, so the next request tries again. */
  private discover(): Promise<client.Configuration> {
    this.configuration ??= this.runDiscovery().catch((error: unknown) => {
      this.configuration = undefined;
      throw error;
    });
    return this.configuration;
  }

  private async runDiscovery(): Promise<client.Configuration> {
    const issuer = new URL(this.config.issuer!);
    try {
      const configuration = await client.discovery(
        issuer,
        this.config.clientId,
        undefined,
        clientSecret(this.config.clientSecret),
        {
          timeout: PROVIDER_TIMEOUT_SECONDS,
          // Plain http is accepted by the configuration check only for loopback issuers.
          execute: issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [],
        },
      );
      configuration.timeout = PROVIDER_TIMEOUT_SECONDS;
      // Verify ID token signatures against the provider's JWKS too, not only TLS.
      client.enableNonRepudiationChecks(configuration);
      return configuration;
    } catch (error) {
      this.logger.warn(`discovery of ${issuer.href} failed: ${reasonOf(error)}`);
      throw oauthError(`The provider could not be reached: ${reasonOf(error)}`);
    }
  }
}

/** client_secret_basic unless the provider only advertises client_secret_post. */
function clientSecret(secret: string): client.ClientAuth {
  const basic = client.ClientSecretBasic(secret);
  const post = client.ClientSecretPost(secret);
  return (as, metadata, body, headers) => {
    const supported = as.token_endpoint_auth_methods_supported;
    const usePost = supported !== undefined && !supported.includes('client_secret_basic');
    return (usePost ? post : basic)(as, metadata, body, headers);
  };
}
