import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { invalidToken } from '../../common/api-error';
import type { SessionActivity } from '../../sessions/session-activity';
import { BEARER_ACTIVITY } from './bearer-activity';
import { AccessTokenValidator } from './access-token.validator';
import { Principal } from './principal';

/** RFC 6750 `Bearer` token in the Authorization header; the query string is never read. */
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

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
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? BEARER.exec(header.trim()) : null;
    if (!match) throw invalidToken();
    const valid = await this.validator.validate(match[1], { withUser: true });
    if (!valid?.user) throw invalidToken();
    const { claims, user } = valid;
    request.user = { userId: claims.sub, sessionId: claims.sid, roles: claims.roles, claims, user };
    // Here rather than in a response hook: a hook would cost every request, authenticated or not.
    this.activity.record(claims.sid);
    return true;
  }
}
