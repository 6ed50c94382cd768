import { SetMetadata } from '@nestjs/common';
import { RequestLimit } from './rate-limit.definitions';

export const RATE_LIMITS = Symbol('RATE_LIMITS');

/** What a route may name: request limits, and `login_lockout` (progressive lockout, account block). */
export type RouteLimit = RequestLimit | 'login_lockout';

/**
 * The limits a route is subject to, checked by the global RateLimitGuard before anything else
 * runs (authentication and validation included), e.g. `@RateLimit('register_ip')`.
 * Definitions and defaults: rate-limit.definitions.ts.
 */
export const RateLimit = (...limits: RouteLimit[]) => SetMetadata(RATE_LIMITS, limits);
