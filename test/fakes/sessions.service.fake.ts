import type { NewSecurityEvent } from '../../apps/auth-service/src/events/event-types';
import type { RevocationReason } from '../../apps/auth-service/src/sessions/session-revoker';
import type {
  ClientInfo,
  SessionsService,
  StartOptions,
  TokenResponse,
} from '../../apps/auth-service/src/sessions/sessions.service';
import type { PublicUser } from '../../apps/auth-service/src/users/public-user';

/** Starts sessions as the flows ask, and records what they asked for. */
export class FakeSessionsService implements Pick<
  SessionsService,
  'start' | 'refresh' | 'revoke' | 'revokeAll'
> {
  readonly started: { user: PublicUser; client: ClientInfo; options: StartOptions }[] = [];
  readonly refreshed: string[] = [];
  readonly revoked: { sessionId?: string; userId?: string; reason: RevocationReason; event?: string }[] = [];

  start(user: PublicUser, client: ClientInfo, options: StartOptions = {}): Promise<TokenResponse> {
    this.started.push({ user, client, options });
    const n = this.started.length;
    return Promise.resolve({
      accessToken: `access:${n}`,
      tokenType: 'Bearer',
      expiresIn: 900,
      refreshToken: `refresh:${n}`,
      user,
    });
  }

  refresh(refreshToken: string): Promise<TokenResponse> {
    this.refreshed.push(refreshToken);
    return Promise.reject(new Error('FakeSessionsService.refresh answers nothing'));
  }

  revoke(sessionId: string, reason: RevocationReason, event?: NewSecurityEvent): Promise<void> {
    this.revoked.push({ sessionId, reason, ...(event ? { event: event.type } : {}) });
    return Promise.resolve();
  }

  revokeAll(
    userId: string,
    reason: RevocationReason,
    _exceptSessionId?: string,
    event?: NewSecurityEvent,
  ): Promise<void> {
    this.revoked.push({ userId, reason, ...(event ? { event: event.type } : {}) });
    return Promise.resolve();
  }
}
