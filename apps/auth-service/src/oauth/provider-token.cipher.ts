import { Injectable } from '@nestjs/common';
import { KeyedCipher } from '../secrets/keyed-cipher';
import { ServiceSecretsRepository } from '../secrets/service-secrets.repository';

/**
 * Encrypts the providers' tokens before they are stored (`oauth_accounts.*_token_enc`). The key
 * is the service secret `oauth-token-key`, generated once and shared by every instance.
 */
@Injectable()
export class ProviderTokenCipher extends KeyedCipher {
  constructor(secrets: ServiceSecretsRepository) {
    super(secrets, 'oauth-token-key');
  }
}
