import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { hashSecretToken, newSecretToken } from '../crypto/secret-tokens';
import { MailService } from '../mail/mail.service';
import { PublicUser } from '../users/public-user';
import { UsersRepository } from '../users/users.repository';
import { verificationMail } from './auth-mails';
import { EmailTokensRepository } from './email-tokens.repository';

const VERIFICATION_TTL_MS = 24 * 60 * 60 * 1000;

@Injectable()
export class EmailVerificationService {
  constructor(
    private readonly tokens: EmailTokensRepository,
    private readonly users: UsersRepository,
    private readonly mail: MailService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Creates a token and mails it; the caller's answer never waits on it or fails with it. */
  sendInBackground(user: PublicUser): void {
    void this.send(user).catch(() => undefined);
  }

  async resend(userId: string): Promise<void> {
    const user = await this.users.getById(userId);
    if (user && !user.emailVerified) this.sendInBackground(user);
  }

  async verify(token: string): Promise<void> {
    const userId = await this.tokens.verifyEmail(hashSecretToken(token));
    if (!userId)
      throw new ApiError('invalid_verification_token', 'The verification token is invalid, used or expired');
    await this.users.refresh(userId);
  }

  private async send(user: PublicUser): Promise<void> {
    const { token, hash } = newSecretToken();
    await this.tokens.create(user.id, 'verify_email', hash, new Date(Date.now() + VERIFICATION_TTL_MS));
    await this.mail.send(verificationMail(user.email, this.config.http.frontendUrl, token));
  }
}
