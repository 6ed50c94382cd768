import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import type { EventClient } from '../events/event-types';
import { hashSecretToken, newSecretToken } from '../crypto/secret-tokens';
import { PublicUser } from '../users/public-user';
import { UsersRepository } from '../users/users.repository';
import { AuthMails } from './auth-mails';
import { EmailTokensRepository } from './email-tokens.repository';

const VERIFICATION_TTL_HOURS = 24;

@Injectable()
export class EmailVerificationService {
  constructor(
    private readonly tokens: EmailTokensRepository,
    private readonly users: UsersRepository,
    private readonly mails: AuthMails,
  ) {}

  /** Creates a token and mails it; the caller's answer never waits on it or fails with it. */
  sendInBackground(user: PublicUser): void {
    void this.send(user).catch(() => undefined);
  }

  async resend(userId: string): Promise<void> {
    const user = await this.users.getById(userId);
    if (user && !user.emailVerified) this.sendInBackground(user);
  }

  async verify(token: string, client: EventClient | null = null): Promise<void> {
    const userId = await this.tokens.verifyEmail(hashSecretToken(token), client);
    if (!userId)
      throw new ApiError('invalid_verification_token', 'The verification token is invalid, used or expired');
    await this.users.refresh(userId);
  }

  private async send(user: PublicUser): Promise<void> {
    const { token, hash } = newSecretToken();
    await this.tokens.create(
      user.id,
      'verify_email',
      hash,
      new Date(Date.now() + VERIFICATION_TTL_HOURS * 3_600_000),
    );
    await this.mails.sendVerification(user, token, VERIFICATION_TTL_HOURS);
  }
}
