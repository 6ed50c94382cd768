import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Attributes, SpanKind } from '@opentelemetry/api';
import { createTransport, Transporter } from 'nodemailer';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { traced } from '../observability/spans';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/**
 * Sends through SMTP_URL with nodemailer; with no SMTP_URL each message is written to the log
 * instead (the one log line allowed to carry a token, for development), except with
 * NODE_ENV=production, where only the failure is logged.
 */
@Injectable()
export class MailService implements OnModuleDestroy {
  private readonly logger = new Logger('Mail');
  private readonly transport?: Transporter;
  /** The SMTP server of the span, never the URL (which may carry the credentials). */
  private readonly server: Attributes = {};

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    if (config.mail.smtpUrl) {
      this.transport = createTransport(config.mail.smtpUrl);
      const url = new URL(config.mail.smtpUrl);
      this.server = {
        'server.address': url.hostname,
        ...(url.port ? { 'server.port': Number(url.port) } : {}),
      };
    }
  }

  async send(message: MailMessage): Promise<void> {
    if (!this.transport) {
      if (this.config.mail.logUnsent) {
        this.logger.log(`(no SMTP_URL) mail to ${message.to}: ${message.subject}\n${message.text}`);
      } else {
        // In production the text (a reset or verification link, i.e. a credential) never goes to the log.
        this.logger.error(`"${message.subject}" not sent: no SMTP_URL configured`);
      }
      return;
    }
    const transport = this.transport;
    await traced('smtp send', () => transport.sendMail({ from: this.config.mail.from, ...message }), {
      kind: SpanKind.CLIENT,
      attributes: this.server,
    });
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
