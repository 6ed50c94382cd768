import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Type } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { RATE_LIMITS, RouteLimit } from './rate-limit.metadata';
import { REQUEST_LIMIT_KEY } from './rate-limit.definitions';
import { RedisKeys } from '../common/redis-keys';
import { RateLimitService } from './rate-limit.service';
import { bodyEmail, clientIp } from './request-keys';

/**
 * Global guard: counts the request against every limit its route names with `@RateLimit`, and
 * refuses it with 429 `too_many_requests` + `Retry-After` when one is over. Global guards run
 * before the route's own guards, so an unauthenticated flood is limited too.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  /** Acts only on routes with @RateLimit: an answer from memory elsewhere skips nothing (RouteScoped). */
  static appliesTo(handler: object, controller: Type): boolean {
    const names = (Reflect.getMetadata(RATE_LIMITS, handler) ??
      Reflect.getMetadata(RATE_LIMITS, controller)) as RouteLimit[] | undefined;
    return (names?.length ?? 0) > 0;
  }

  constructor(
    private readonly reflector: Reflector,
    private readonly limits: RateLimitService,
    private readonly keys: RedisKeys,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.limits.enabled || context.getType() !== 'http') return true;
    const names = this.reflector.getAllAndOverride<RouteLimit[] | undefined>(RATE_LIMITS, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!names?.length) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const ip = clientIp(request);
    const email = bodyEmail(request);
    for (const name of names) {
      if (name === 'login_lockout') continue;
      const keyedBy = REQUEST_LIMIT_KEY[name];
      if (keyedBy === 'user') continue;
      const key = keyedBy === 'ip' ? ip : email && this.keys.rateLimitAccount(email);
      if (!key) continue;
      const refusal = await this.limits.hit(name, key);
      if (refusal) throw refusal;
    }
    if (names.includes('login_lockout') && email) {
      const refusal = await this.limits.checkLogin(email, ip);
      if (refusal) throw refusal;
    }
    return true;
  }
}
