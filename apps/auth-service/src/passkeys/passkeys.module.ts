import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { EventsModule } from '../events/events.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { PasskeySignInController } from './passkey-sign-in.controller';
import { PasskeySignInService } from './passkey-sign-in.service';
import { PasskeysController } from './passkeys.controller';
import { PasskeysRepository } from './passkeys.repository';
import { PasskeysService } from './passkeys.service';
import { WebauthnChallengesRepository } from './webauthn-challenges.repository';

/** Passkeys (WebAuthn, @simplewebauthn/server): registration and management, and sign-in. */
@Module({
  imports: [AccessModule, UsersModule, SessionsModule, EventsModule, RateLimitModule],
  controllers: [PasskeysController, PasskeySignInController],
  providers: [PasskeysService, PasskeySignInService, PasskeysRepository, WebauthnChallengesRepository],
})
export class PasskeysModule {}
