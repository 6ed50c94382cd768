import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ApiErrors } from '../common/api-docs';
import { LoginOutcomeInterceptor } from './login-outcome.interceptor';
import { RATE_LIMITS, RouteLimit } from './rate-limit.metadata';

export type { RouteLimit } from './rate-limit.metadata';

/**
 * The limits a route is subject to, checked by the global RateLimitGuard before anything else
 * runs (authentication and validation included), e.g. `@RateLimit('register_ip')`. With
 * `login_lockout` it also attaches the interceptor that records the login's outcome (on that
 * route only: an interceptor on every route would cost each request an RxJS chain).
 * It also documents the 429 (with Retry-After) of the route. Definitions and defaults: rate-limit.definitions.ts.
 */
export const RateLimit = (...limits: RouteLimit[]) =>
  applyDecorators(
    SetMetadata(RATE_LIMITS, limits),
    // The refusal every limited route can answer: 429 with Retry-After, in the OpenAPI document.
    ApiErrors('too_many_requests'),
    ...(limits.includes('login_lockout') ? [UseInterceptors(LoginOutcomeInterceptor)] : []),
  );
