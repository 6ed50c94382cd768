import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../../common/api-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { GitHubProviderClient } from './github-provider.client';
import { OAuthProviderClient } from './oauth-provider.client';
import { OidcProviderClient } from './oidc-provider.client';

/** The providers of `OAUTH_PROVIDERS`, built once per instance from the validated configuration. */
@Injectable()
export class OAuthProvidersRegistry {
  private readonly clients = new Map<string, OAuthProviderClient>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    for (const provider of config.oauth.clients) {
      this.clients.set(
        provider.id,
        provider.type === 'github' ? new GitHubProviderClient(provider) : new OidcProviderClient(provider),
      );
    }
  }

  list(): OAuthProviderClient[] {
    return [...this.clients.values()];
  }

  has(id: string): boolean {
    return this.clients.has(id);
  }

  get(id: string): OAuthProviderClient {
    const client = this.clients.get(id);
    if (!client)
      throw new ApiError('unknown_provider', `No OAuth provider "${id.slice(0, 64)}" is configured`);
    return client;
  }
}
