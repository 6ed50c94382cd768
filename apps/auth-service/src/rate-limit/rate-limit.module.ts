import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { APP_GUARD } from '@nestjs/core';
import { LoginOutcomeInterceptor } from './login-outcome.interceptor';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitMetrics } from './rate-limit.metrics';
import { RateLimitService } from './rate-limit.service';

/** Rate limits and login lockout (see rate-limit.definitions.ts); RATE_LIMIT_ENABLED=false turns them off. */
// Imported by the modules whose routes name a limit: @RateLimit('login_lockout') puts the
// interceptor on a route, and Nest builds it in that route's module.
@Module({
  imports: [EventsModule],
  providers: [
    RateLimitService,
    RateLimitMetrics,
    { provide: APP_GUARD, useClass: RateLimitGuard },
    LoginOutcomeInterceptor,
  ],
  // The interceptor is put on the login route by @RateLimit('login_lockout').
  exports: [RateLimitService, LoginOutcomeInterceptor],
})
export class RateLimitModule {}
