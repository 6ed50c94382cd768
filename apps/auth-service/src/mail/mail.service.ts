import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { createTransport, Transporter } from 'nodemailer';
import { APP_CONFIG, AppConfig } from '../config/app-config';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** The same content as HTML, sent as the multipart/alternative's preferred part. */
  html?: string;
}

/**
 * Sends through SMTP_URL with nodemailer; with no SMTP_URL each message is written to the log
 * instead (the one log line allowed to carry a token, for development).
 */
@Injectable()
export class MailService implements OnModuleDestroy {
  private readonly logger = new Logger('Mail');
  private readonly transport?: Transporter;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    if (config.mail.smtpUrl) this.transport = createTransport(config.mail.smtpUrl);
  }

  async send(message: MailMessage): Promise<void> {
    if (!this.transport) {
      this.logger.log(`(no SMTP_URL) mail to ${message.to}: ${message.subject}\n${message.text}`);
      return;
    }
    await this.transport.sendMail({ from: this.config.mail.from, ...message });
  }

  /** Sends without making the caller wait or fail: the HTTP answer must not depend on the mail. */
  sendInBackground(message: MailMessage): void {
    this.send(message).catch((error: Error) =>
      this.logger.error(`sending "${message.subject}" failed: ${error.message}`),
    );
  }

  onModuleDestroy(): void {
    this.transport?.close();
  }
}
