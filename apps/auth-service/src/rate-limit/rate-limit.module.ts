import { Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { LoginOutcomeInterceptor } from './login-outcome.interceptor';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitService } from './rate-limit.service';

/** Rate limits and login lockout (see rate-limit.definitions.ts); RATE_LIMIT_ENABLED=false turns them off. */
@Module({
  providers: [
    RateLimitService,
    { provide: APP_GUARD, useClass: RateLimitGuard },
    { provide: APP_INTERCEPTOR, useClass: LoginOutcomeInterceptor },
  ],
  exports: [RateLimitService],
})
export class RateLimitModule {}
