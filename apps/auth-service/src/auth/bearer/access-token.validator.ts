import { Injectable } from '@nestjs/common';
import { SessionsRepository, SessionState } from '../../sessions/sessions.repository';
import { AccessTokenClaims, AccessTokenService } from '../../tokens/access-token.service';
import { PublicUser } from '../../users/public-user';

export interface ValidatedToken {
  claims: AccessTokenClaims;
  /** Loaded with the session in the same cache round trip when asked for. */
  user?: PublicUser;
}

/** An access token is good when its signature and claims verify AND its session is still active. */
@Injectable()
export class AccessTokenValidator {
  constructor(
    private readonly tokens: AccessTokenService,
    private readonly sessions: SessionsRepository,
  ) {}

  async validate(token: string, options: { withUser?: boolean } = {}): Promise<ValidatedToken | undefined> {
    const claims = await this.tokens.verify(token);
    if (!claims) return undefined;
    if (options.withUser) {
      const [session, user] = await this.sessions.getStateAndUser(claims.sid, claims.sub);
      return isActive(session, claims) && user ? { claims, user } : undefined;
    }
    const session = await this.sessions.getState(claims.sid);
    return isActive(session, claims) ? { claims } : undefined;
  }
}

function isActive(session: SessionState | null, claims: AccessTokenClaims): boolean {
  return (
    session !== null &&
    session.userId === claims.sub &&
    session.revokedAt === null &&
    session.expiresAt.getTime() > Date.now()
  );
}
