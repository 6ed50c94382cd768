import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { catchError, from, mergeMap, Observable, throwError } from 'rxjs';
import { ApiError } from '../common/api-error';
import { RATE_LIMITS, RouteLimit } from './rate-limit.metadata';
import { RateLimitService } from './rate-limit.service';
import { bodyEmail, clientIp } from './request-keys';

/**
 * On routes with `@RateLimit('login_lockout')`: records the outcome before the answer goes out.
 * `invalid_credentials` lengthens the (account, IP) failure streak; a success resets it.
 */
@Injectable()
export class LoginOutcomeInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly limits: RateLimitService,
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
      mergeMap((value) => from(this.limits.loginSucceeded(email, ip).then(() => value))),
      catchError((error: unknown) => {
        const failed = error instanceof ApiError && error.code === 'invalid_credentials';
        return from(failed ? this.limits.loginFailed(email, ip) : Promise.resolve()).pipe(
          mergeMap(() => throwError(() => error)),
        );
      }),
    );
  }
}
