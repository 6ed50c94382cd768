import { Injectable } from '@nestjs/common';
import { AccessTokenValidator } from '../access/access-token.validator';
import type { FastPath } from '../http/declared-route-hooks';
import type { RouteHook } from '../http/route-hooks';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { clientIp } from '../rate-limit/request-keys';
import type { AccessTokenClaims } from '../tokens/access-token.service';
import type { PublicUser } from '../users/public-user';
import { ClientCredentials } from './client-credentials';
import { ClientCredentialsGuard } from './client-credentials.guard';
import { INTROSPECTION_LIMIT, markLimitRead, plainIntrospectToken } from './introspect-request';
import { activeAnswer } from './introspection.service';

/**
 * POST /auth/introspect answered once its body is parsed, when the answer is already in memory:
 * the client authenticates, the body is one IntrospectDto certainly accepts, and the token is
 * valid from memory (AccessTokenValidator.fromMemory). The answer is the controller's, minus
 * Nest's guard, validation-pipe and interceptor steps (bench/RESULTS.md). Everything else, every
 * refusal and every `{active:false}` included, goes on to the controller. With rate limits on, an
 * IP over the route's limit gets the guard's 429 here too (ClientCredentialsGuard).
 */
@Injectable()
export class IntrospectionFromMemory implements FastPath {
  /** ClientCredentialsGuard's limit and authentication run here; its refusals are left to it. */
  static readonly runs = [ClientCredentialsGuard];
  readonly stage = 'preHandler';
  /**
   * Each remembered token's answer, serialized once per user value: the claims object is the
   * verified-token memo's own, the same for every request of that token, and the cached user is
   * one frozen value until a write replaces it, so a role change gives a new answer at once.
   */
  private readonly answers = new WeakMap<AccessTokenClaims, { user: PublicUser; json: string }>();

  constructor(
    private readonly limits: RateLimitService,
    private readonly clients: ClientCredentials,
    private readonly validator: AccessTokenValidator,
  ) {}

  readonly hook: RouteHook = (request, reply, done) => {
    if (!this.limits.enabled) return this.answerFromMemory(request, reply, done);
    // Usually remembered (RateLimitService.overLimit): then no Redis call and no promise.
    const known = this.limits.overLimitFromMemory(INTROSPECTION_LIMIT, clientIp(request));
    if (known !== null) {
      if (known) return done(known);
      markLimitRead(request);
      return this.answerFromMemory(request, reply, done);
    }
    this.limits
      .overLimit(INTROSPECTION_LIMIT, clientIp(request))
      .then((refusal) => {
        if (refusal) return done(refusal);
        // A request that goes on to the guard is not read against the limit a second time.
        markLimitRead(request);
        this.answerFromMemory(request, reply, done);
      })
      .catch(done);
  };

  private readonly answerFromMemory: RouteHook = (request, reply, done) => {
    const token = plainIntrospectToken(request.body);
    const valid =
      token !== undefined && this.clients.authenticate(request.headers.authorization) !== undefined
        ? this.validator.fromMemory(token)
        : undefined;
    if (!valid) return done();
    void reply.type('application/json; charset=utf-8').send(this.answerJson(valid.claims, valid.user));
  };

  private answerJson(claims: AccessTokenClaims, user: PublicUser): string {
    const known = this.answers.get(claims);
    if (known?.user === user) return known.json;
    const json = JSON.stringify(activeAnswer(claims, user));
    this.answers.set(claims, { user, json });
    return json;
  }
}
