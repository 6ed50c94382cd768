import type {
  AccessTokenService,
  IssuedAccessToken,
} from '../../apps/auth-service/src/tokens/access-token.service';

/** Issues readable tokens and records for whom: what a session's access token stands for. */
export class FakeAccessTokens implements Pick<AccessTokenService, 'issue'> {
  readonly issued: { userId: string; sessionId: string; roles: string[] }[] = [];

  constructor(private readonly expiresIn = 900) {}

  issue(subject: { userId: string; sessionId: string; roles: string[] }): Promise<IssuedAccessToken> {
    this.issued.push(subject);
    return Promise.resolve({
      token: `access:${subject.sessionId}:${this.issued.length}`,
      expiresIn: this.expiresIn,
    });
  }
}
