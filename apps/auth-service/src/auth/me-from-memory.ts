import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { addHookToRoute, RouteHook } from '../bootstrap/route-hooks';
import type { SessionActivity } from '../sessions/session-activity';
import { AccessTokenValidator } from './bearer/access-token.validator';
import { BEARER_ACTIVITY } from './bearer/bearer-activity';
import { bearerToken } from './bearer/bearer-token';

/**
 * GET /auth/me answered in the route's first hook when the answer is already in memory: the
 * caller's token verified before and its session and user sit in a trusted L1 (see
 * AccessTokenValidator.fromMemory). The answer is the one BearerAuthGuard + AuthController.me
 * give, minus Nest's guard, pipe and interceptor steps, which cost more than the route itself
 * (bench/RESULTS.md). Every other request, refusals included, goes on to the controller.
 */
@Injectable()
export class MeFromMemory {
  constructor(
    adapterHost: HttpAdapterHost,
    private readonly validator: AccessTokenValidator,
    @Inject(BEARER_ACTIVITY) private readonly activity: SessionActivity,
  ) {
    // fastify calls onRoute as Nest adds the routes, after the providers are built: so, here.
    addHookToRoute(
      adapterHost.httpAdapter?.getInstance(),
      { method: 'GET', url: '/api/v1/auth/me' },
      'onRequest',
      this.answer,
    );
  }

  private readonly answer: RouteHook = (request, reply, done) => {
    const token = bearerToken(request.headers.authorization);
    const valid = token === undefined ? undefined : this.validator.fromMemory(token);
    if (!valid) return done();
    this.activity.record(valid.claims.sid);
    void reply.send(valid.user);
  };
}
