import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { SecondFactorsModule } from '../second-factors/second-factors.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { MfaChallengeService } from './mfa-challenge.service';
import { MfaChallengesRepository } from './mfa-challenges.repository';

/**
 * The second step of a sign-in: the MFA challenge a password login or an OAuth sign-in may answer
 * (its route, POST /auth/mfa/verify, is auth/'s MfaVerifyController).
 */
@Module({
  imports: [SecondFactorsModule, SessionsModule, UsersModule, RateLimitModule, EventsModule],
  providers: [MfaChallengeService, MfaChallengesRepository],
  exports: [MfaChallengeService],
})
export class SignInModule {}
