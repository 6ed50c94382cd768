import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { EventsModule } from '../events/events.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { SecretsModule } from '../secrets/secrets.module';
import { MfaController } from './mfa.controller';
import { MfaService } from './mfa.service';
import { MfaStatusRepository } from './mfa-status.repository';
import { RecoveryCodesRepository } from './recovery-codes/recovery-codes.repository';
import { SecondFactorCodes } from './second-factor-codes';
import { TotpSecretCipher } from './totp/totp-secret.cipher';
import { TotpRepository } from './totp/totp.repository';

/** TOTP and recovery codes of the account (API.md "Second factors"); the login challenge is in sign-in/. */
@Module({
  imports: [AccessModule, EventsModule, RateLimitModule, SecretsModule],
  controllers: [MfaController],
  providers: [
    MfaService,
    MfaStatusRepository,
    TotpRepository,
    RecoveryCodesRepository,
    SecondFactorCodes,
    TotpSecretCipher,
  ],
  exports: [TotpRepository, SecondFactorCodes],
})
export class SecondFactorsModule {}
