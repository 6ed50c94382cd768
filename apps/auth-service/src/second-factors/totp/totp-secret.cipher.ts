import { Injectable } from '@nestjs/common';
import { KeyedCipher } from '../../secrets/keyed-cipher';
import { ServiceSecretsRepository } from '../../secrets/service-secrets.repository';

/**
 * Seals TOTP secrets (`totp_factors.secret_enc`, `pending_secret_enc`) with AES-256-GCM under the
 * service secret `totp-secret-key`: a dump of the table alone gives no one a user's codes.
 */
@Injectable()
export class TotpSecretCipher extends KeyedCipher {
  constructor(secrets: ServiceSecretsRepository) {
    super(secrets, 'totp-secret-key');
  }
}
