import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { CryptoModule } from '../crypto/crypto.module';
import { EventsModule } from '../events/events.module';
import { MailModule } from '../mail/mail.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { SessionsModule } from '../sessions/sessions.module';
import { SignInModule } from '../sign-in/sign-in.module';
import { TokensModule } from '../tokens/tokens.module';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { AuthMails } from './auth-mails';
import { AuthMetrics } from './auth.metrics';
import { AuthService } from './auth.service';
import { EmailController } from './email.controller';
import { EmailTokensRepository } from './email-tokens.repository';
import { MeFromMemory } from './me-from-memory';
import { MfaVerifyController } from './mfa-verify.controller';
import { EmailVerificationService } from './email-verification.service';
import { PasswordController } from './password.controller';
import { PasswordService } from './password.service';
import { PasswordsRepository } from './passwords.repository';

@Module({
  imports: [
    AccessModule,
    UsersModule,
    SessionsModule,
    EventsModule,
    TokensModule,
    CryptoModule,
    MailModule,
    RateLimitModule,
    SignInModule,
  ],
  controllers: [AuthController, PasswordController, EmailController, MfaVerifyController],
  providers: [
    AuthService,
    AuthMails,
    PasswordService,
    EmailVerificationService,
    EmailTokensRepository,
    PasswordsRepository,
    MeFromMemory,
    AuthMetrics,
  ],
})
export class AuthModule {}
