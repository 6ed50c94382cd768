import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { catchError, from, mergeMap, Observable, of, throwError } from 'rxjs';
import { ApiError } from '../common/api-error';
import { SecurityEvents } from '../events/security-events';
import { RATE_LIMITS, RouteLimit } from './rate-limit.metadata';
import { RateLimitService } from './rate-limit.service';
import { bodyEmail, clientIp } from './request-keys';

/**
 * On routes with `@RateLimit('login_lockout')`: records the outcome before the answer goes out.
 * `invalid_credentials` lengthens the (account, IP) failure streak (a lockout it starts is a
 * `login.locked` event); a success resets it. An MFA challenge (`mfaRequired`) is not a success
 * yet: the streak is reset by POST /auth/mfa/verify, whose wrong codes lengthen it (else a
 * password alone would wipe the wrong codes away).
 */
@Injectable()
export class LoginOutcomeInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly limits: RateLimitService,
    private readonly events: SecurityEvents,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler<unknown>): Observable<unknown> {
    if (!this.limits.enabled || context.getType() !== 'http') return next.handle();
    const names = this.reflector.get<RouteLimit[] | undefined>(RATE_LIMITS, context.getHandler());
    if (!names?.includes('login_lockout')) return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const email = bodyEmail(request);
    if (!email) return next.handle();
    const ip = clientIp(request);
    return next.handle().pipe(
      mergeMap((value) =>
        isChallenge(value) ? of(value) : from(this.limits.loginSucceeded(email, ip).then(() => value)),
      ),
      catchError((error: unknown) => {
        const failed = error instanceof ApiError && error.code === 'invalid_credentials';
        return from(failed ? this.failed(email, ip, request) : Promise.resolve()).pipe(
          mergeMap(() => throwError(() => error)),
        );
      }),
    );
  }

  /** Counts the failure; a lockout it starts is recorded as `login.locked` (its own write: no change to join). */
  private async failed(email: string, ip: string, request: FastifyRequest): Promise<void> {
    const lockout = await this.limits.loginFailed(email, ip);
    if (!lockout) return;
    const ua = request.headers['user-agent'];
    const client = { ip: request.ip, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null };
    await this.events
      .recordForEmail(email, { type: 'login.locked', client, details: { ...lockout } })
      .catch(() => undefined);
  }
}

/** An MFA challenge answer (sign-in/mfa-challenge.ts; not imported: sign-in/ depends on rate-limit/). */
const isChallenge = (value: unknown) =>
  typeof value === 'object' && value !== null && (value as { mfaRequired?: unknown }).mfaRequired === true;
