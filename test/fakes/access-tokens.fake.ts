import type {
  AccessTokenService,
  AccessTokenSubject,
  IssuedAccessToken,
} from '../../apps/auth-service/src/tokens/access-token.service';

/** Issues readable tokens and records for whom: what a session's access token stands for. */
export class FakeAccessTokens implements Pick<AccessTokenService, 'issue'> {
  readonly issued: AccessTokenSubject[] = [];

  constructor(private readonly expiresIn = 900) {}

  issue(subject: AccessTokenSubject): Promise<IssuedAccessToken> {
    this.issued.push(subject);
    return Promise.resolve({
      token: `access:${subject.sessionId}:${this.issued.length}`,
      expiresIn: this.expiresIn,
    });
  }
}
