import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { LoginOutcomeInterceptor } from './login-outcome.interceptor';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitService } from './rate-limit.service';

/** Rate limits and login lockout (see rate-limit.definitions.ts); RATE_LIMIT_ENABLED=false turns them off. */
// Global: the routes that @RateLimit('login_lockout') marks, in any module, get the interceptor.
@Global()
@Module({
  providers: [RateLimitService, { provide: APP_GUARD, useClass: RateLimitGuard }, LoginOutcomeInterceptor],
  // The interceptor is put on the login route by @RateLimit('login_lockout').
  exports: [RateLimitService, LoginOutcomeInterceptor],
})
export class RateLimitModule {}
