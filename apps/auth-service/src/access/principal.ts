import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { AccessTokenClaims } from '../tokens/access-token.service';
import type { PublicUser } from '../users/public-user';

/** Who is calling: set on the request by the bearer guard after the token and its session checked out. */
export interface Principal {
  userId: string;
  sessionId: string;
  roles: string[];
  claims: AccessTokenClaims;
  /** The caller's user, read with the session (one cache round trip). */
  user: PublicUser;
}

export function principalOf(claims: AccessTokenClaims, user: PublicUser): Principal {
  return { userId: claims.sub, sessionId: claims.sid, roles: claims.roles, claims, user };
}

export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal =>
    ctx.switchToHttp().getRequest<{ user: Principal }>().user,
);
