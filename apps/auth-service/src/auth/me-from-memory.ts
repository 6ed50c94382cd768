import { Inject, Injectable } from '@nestjs/common';
import { AccessTokenValidator } from '../access/access-token.validator';
import { BEARER_ACTIVITY } from '../access/bearer-activity';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import { bearerToken } from '../access/bearer-token';
import type { FastPath } from '../http/declared-route-hooks';
import type { RouteHook } from '../http/route-hooks';
import type { SessionActivity } from '../sessions/session-activity';

/**
 * GET /auth/me answered in the route's first hook when the answer is already in memory: the
 * caller's token verified before and its session and user sit in a trusted L1 (see
 * AccessTokenValidator.fromMemory). The answer is the one BearerAuthGuard + AuthController.me
 * give, minus Nest's guard, pipe and interceptor steps, which cost more than the route itself
 * (bench/RESULTS.md). Every other request, refusals included, goes on to the controller.
 */
@Injectable()
export class MeFromMemory implements FastPath {
  /** BearerAuthGuard's check is fromMemory()'s "yes"; its refusals are left to it. */
  static readonly runs = [BearerAuthGuard];
  readonly stage = 'onRequest';

  constructor(
    private readonly validator: AccessTokenValidator,
    @Inject(BEARER_ACTIVITY) private readonly activity: SessionActivity,
  ) {}

  readonly hook: RouteHook = (request, reply, done) => {
    const token = bearerToken(request.headers.authorization);
    const valid = token === undefined ? undefined : this.validator.fromMemory(token);
    if (!valid) return done();
    this.activity.record(valid.claims.sid);
    void reply.send(valid.user);
  };
}
