import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { TokensModule } from '../tokens/tokens.module';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { EmailController } from './email.controller';
import { EmailTokensRepository } from './email-tokens.repository';
import { MeFromMemory } from './me-from-memory';
import { EmailVerificationService } from './email-verification.service';
import { PasswordController } from './password.controller';
import { PasswordService } from './password.service';
import { PasswordsRepository } from './passwords.repository';

@Module({
  imports: [UsersModule, SessionsModule, TokensModule],
  controllers: [AuthController, PasswordController, EmailController],
  providers: [
    AuthService,
    PasswordService,
    EmailVerificationService,
    EmailTokensRepository,
    PasswordsRepository,
    MeFromMemory,
  ],
})
export class AuthModule {}
