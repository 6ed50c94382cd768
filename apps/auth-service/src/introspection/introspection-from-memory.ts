import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AccessTokenValidator } from '../auth/bearer/access-token.validator';
import { addHookToRoute, RouteHook } from '../bootstrap/route-hooks';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { ClientCredentials } from './client-credentials';
import { plainIntrospectToken } from './introspect-request';
import { activeAnswer } from './introspection.service';

/**
 * POST /auth/introspect answered once its body is parsed, when the answer is already in memory:
 * the client authenticates, the body is one IntrospectDto certainly accepts, and the token is
 * valid from memory (AccessTokenValidator.fromMemory). The answer is the controller's, minus
 * Nest's guard, validation-pipe and interceptor steps (bench/RESULTS.md). Everything else, every
 * refusal and every `{active:false}` included, goes on to the controller. Not put on the route
 * while rate limits are on: its limiter runs in the Nest pipeline, and must see every request.
 */
@Injectable()
export class IntrospectionFromMemory {
  constructor(
    adapterHost: HttpAdapterHost,
    limits: RateLimitService,
    private readonly clients: ClientCredentials,
    private readonly validator: AccessTokenValidator,
  ) {
    if (limits.enabled) return;
    addHookToRoute(
      adapterHost.httpAdapter?.getInstance(),
      { method: 'POST', url: '/api/v1/auth/introspect' },
      'preHandler',
      this.answer,
    );
  }

  private readonly answer: RouteHook = (request, reply, done) => {
    const token = plainIntrospectToken(request.body);
    const valid =
      token !== undefined && this.clients.authenticate(request.headers.authorization) !== undefined
        ? this.validator.fromMemory(token)
        : undefined;
    if (!valid) return done();
    void reply.send(activeAnswer(valid.claims));
  };
}
