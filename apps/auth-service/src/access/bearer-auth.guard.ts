import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { invalidToken } from '../common/api-error';
import type { SessionActivity } from '../sessions/session-activity';
import { BEARER_ACTIVITY } from './bearer-activity';
import { AccessTokenValidator } from './access-token.validator';
import { bearerToken } from './bearer-token';
import { Principal, principalOf } from './principal';

/**
 * Lets a request through when its access token verifies and its session is active, and puts the
 * Principal on `request.user`. A plain guard on purpose: Passport keeps strategies in one
 * process-wide registry, so two instances in one process (as the tests run them) would share one.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly validator: AccessTokenValidator,
    @Inject(BEARER_ACTIVITY) private readonly activity: SessionActivity,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, unknown>; user?: Principal }>();
    const token = bearerToken(request.headers.authorization);
    if (!token) throw invalidToken();
    const valid = await this.validator.validate(token, { withUser: true });
    if (!valid?.user) throw invalidToken();
    request.user = principalOf(valid.claims, valid.user);
    // Here rather than in a response hook: a hook would cost every request, authenticated or not.
    this.activity.record(valid.claims.sid);
    return true;
  }
}
