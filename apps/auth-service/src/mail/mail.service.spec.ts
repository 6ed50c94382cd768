import { Logger } from '@nestjs/common';
import { loadConfig } from '../config/app-config';
import { MailService } from './mail.service';

describe('MailService without SMTP_URL', () => {
  const message = {
    to: 'ada@example.com',
    subject: 'Reset your password',
    text: 'https://x/reset?token=SECRET-TOKEN',
  };
  let lines: string[];

  beforeEach(() => {
    lines = [];
    for (const level of ['log', 'error', 'warn'] as const) {
      jest
        .spyOn(Logger.prototype, level)
        .mockImplementation((...args: unknown[]) => void lines.push(String(args[0])));
    }
  });
  afterEach(() => jest.restoreAllMocks());

  it('writes the mail, link included, to the log in development', async () => {
    await new MailService(loadConfig({})).send(message);
    expect(lines.join('\n')).toContain('SECRET-TOKEN');
  });

  it('with NODE_ENV=production logs that it was not sent, never its text or recipient', async () => {
    await new MailService(loadConfig({ NODE_ENV: 'production' })).send(message);
    expect(lines).toEqual(['"Reset your password" not sent: no SMTP_URL configured']);
  });
});
