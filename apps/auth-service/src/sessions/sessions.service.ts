import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { hashSecretToken, newSecretToken } from '../crypto/secret-tokens';
import { AccessTokenService } from '../tokens/access-token.service';
import { PublicUser } from '../users/public-user';
import { UsersRepository } from '../users/users.repository';
import { accountDisabled } from '../users/sign-in-policy';
import { RevocationReason, SessionRevoker } from './session-revoker';
import { SessionsRepository } from './sessions.repository';

export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
}

export interface TokenResponse {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
  user: PublicUser;
}

export interface SessionListItem {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

/** Sessions and the tokens that stand for them: start, rotate, list, revoke. */
@Injectable()
export class SessionsService {
  constructor(
    private readonly sessions: SessionsRepository,
    private readonly revoker: SessionRevoker,
    private readonly users: UsersRepository,
    private readonly accessTokens: AccessTokenService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async start(user: PublicUser, client: ClientInfo): Promise<TokenResponse> {
    const refresh = newSecretToken();
    const session = await this.sessions.create({
      userId: user.id,
      refreshTokenHash: refresh.hash,
      expiresAt: new Date(Date.now() + this.config.jwt.refreshTtl * 1000),
      userAgent: client.userAgent,
      ip: client.ip,
    });
    return this.tokenResponse(user, session.id, refresh.token);
  }

  /** Rotation with reuse detection: a superseded token revokes its whole session. */
  async refresh(refreshToken: string): Promise<TokenResponse> {
    const oldHash = hashSecretToken(refreshToken);
    const next = newSecretToken();
    const session = await this.sessions.rotateRefreshToken(oldHash, next.hash);
    if (!session) {
      // Disabling revoked the session: say why, rather than "invalid".
      if ((await this.sessions.ownerOfRefreshToken(oldHash))?.disabled) throw accountDisabled();
      const reusedSessionId = await this.sessions.getSessionIdByRotatedToken(oldHash);
      if (reusedSessionId) {
        await this.revoker.revoke({ sessionId: reusedSessionId }, 'refresh_token_reused');
        throw new ApiError(
          'refresh_token_reused',
          'This refresh token was already used; the session has been revoked',
        );
      }
      throw new ApiError('invalid_refresh_token', 'The refresh token is invalid or expired');
    }
    const user = await this.users.getById(session.userId);
    if (!user) throw new ApiError('invalid_refresh_token', 'The refresh token is invalid or expired');
    return this.tokenResponse(user, session.id, next.token);
  }

  async listActive(userId: string, currentSessionId: string): Promise<SessionListItem[]> {
    const sessions = await this.sessions.listActiveForUser(userId);
    return sessions.map((s) => ({ ...s, current: s.id === currentSessionId }));
  }

  async revoke(sessionId: string, reason: RevocationReason): Promise<void> {
    await this.revoker.revoke({ sessionId }, reason);
  }

  /** Another user's session answers exactly like a missing one. */
  async revokeOwn(userId: string, sessionId: string): Promise<void> {
    const revoked = await this.revoker.revoke({ sessionId, userId }, 'session_deleted');
    if (revoked.length === 0) {
      throw new ApiError('session_not_found', 'No such session');
    }
  }

  async revokeAll(userId: string, reason: RevocationReason, exceptSessionId?: string): Promise<void> {
    await this.revoker.revoke({ userId, exceptSessionId }, reason);
  }

  private async tokenResponse(
    user: PublicUser,
    sessionId: string,
    refreshToken: string,
  ): Promise<TokenResponse> {
    const access = await this.accessTokens.issue({ userId: user.id, sessionId, roles: user.roles });
    return {
      accessToken: access.token,
      tokenType: 'Bearer',
      expiresIn: access.expiresIn,
      refreshToken,
      user,
    };
  }
}
