import type { EmailVerificationService } from '../../apps/auth-service/src/auth/email-verification.service';
import type { MailMessage, MailService } from '../../apps/auth-service/src/mail/mail.service';
import type { ProfilesRepository, ProfileView } from '../../apps/auth-service/src/users/profiles.repository';
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

/** Profiles as far as the mails read them: a user's locale, none unless set. */
export class FakeProfiles implements Pick<ProfilesRepository, 'getByUserId'> {
  readonly locales = new Map<string, string>();

  getByUserId(userId: string): Promise<ProfileView> {
    const locale = this.locales.get(userId) ?? null;
    return Promise.resolve({ bio: null, avatarUrl: null, locale, timezone: null, updatedAt: null });
  }
}
