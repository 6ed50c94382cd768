import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { LoginOutcomeInterceptor } from './login-outcome.interceptor';
import { RATE_LIMITS, RouteLimit } from './rate-limit.metadata';

export type { RouteLimit } from './rate-limit.metadata';

/**
 * The limits a route is subject to, checked by the global RateLimitGuard before anything else
 * runs (authentication and validation included), e.g. `@RateLimit('register_ip')`. With
 * `login_lockout` it also attaches the interceptor that records the login's outcome (on that
 * route only: an interceptor on every route would cost each request an RxJS chain).
 * Definitions and defaults: rate-limit.definitions.ts.
 */
export const RateLimit = (...limits: RouteLimit[]) =>
  limits.includes('login_lockout')
    ? applyDecorators(SetMetadata(RATE_LIMITS, limits), UseInterceptors(LoginOutcomeInterceptor))
    : SetMetadata(RATE_LIMITS, limits);
