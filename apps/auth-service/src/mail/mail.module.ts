import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { MailTemplates } from './mail-templates';
import { MailService } from './mail.service';

@Module({
  providers: [
    MailService,
    {
      // Loaded (parsed and test-rendered) at start: a broken template stops the boot.
      provide: MailTemplates,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => MailTemplates.load(config.mail.templatesDir),
    },
  ],
  exports: [MailService, MailTemplates],
})
export class MailModule {}
