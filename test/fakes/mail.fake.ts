import type { EmailVerificationService } from '../../apps/auth-service/src/auth/email-verification.service';
import type { MailMessage, MailService } from '../../apps/auth-service/src/mail/mail.service';
import type { PublicUser } from '../../apps/auth-service/src/users/public-user';

/** Keeps the mails instead of sending them. */
export class FakeMail implements Pick<MailService, 'send'> {
  readonly sent: MailMessage[] = [];

  send(message: MailMessage): Promise<void> {
    this.sent.push(message);
    return Promise.resolve();
  }
}

/** Records whom a verification mail was asked for. */
export class FakeEmailVerification implements Pick<EmailVerificationService, 'sendInBackground'> {
  readonly sentTo: PublicUser[] = [];

  sendInBackground(user: PublicUser): void {
    this.sentTo.push(user);
  }
}
