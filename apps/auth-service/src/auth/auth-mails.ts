import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { MailTemplates } from '../mail/mail-templates';
import { MailService } from '../mail/mail.service';
import { ProfilesRepository } from '../users/profiles.repository';
import { PublicUser } from '../users/public-user';

/**
 * The account mails: links to the frontend's pages (FRONTEND_URL), in the language of the user's
 * profile locale when a template exists for it.
 */
@Injectable()
export class AuthMails {
  constructor(
    private readonly mail: MailService,
    private readonly templates: MailTemplates,
    private readonly profiles: ProfilesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async sendVerification(
    user: Pick<PublicUser, 'id' | 'email'>,
    token: string,
    expiresInHours: number,
  ): Promise<void> {
    const link = `${this.config.http.frontendUrl}/verify-email?token=${token}`;
    const content = await this.templates.render('verify-email', await this.localeOf(user.id), {
      email: user.email,
      link,
      token,
      expiresInHours,
    });
    await this.mail.send({ to: user.email, ...content });
  }

  async sendPasswordReset(
    user: Pick<PublicUser, 'id' | 'email'>,
    token: string,
    expiresInMinutes: number,
  ): Promise<void> {
    const link = `${this.config.http.frontendUrl}/reset-password?token=${token}`;
    const content = await this.templates.render('reset-password', await this.localeOf(user.id), {
      email: user.email,
      link,
      token,
      expiresInMinutes,
    });
    await this.mail.send({ to: user.email, ...content });
  }

  private async localeOf(userId: string): Promise<string | null> {
    return (await this.profiles.getByUserId(userId)).locale;
  }
}
