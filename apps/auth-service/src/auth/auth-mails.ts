import { MailMessage } from '../mail/mail.service';

// The token stands on a line of its own so mail clients (and tests) can copy it whole.
export function verificationMail(to: string, frontendUrl: string, token: string): MailMessage {
  return {
    to,
    subject: 'Confirm your email address',
    text: `Confirm your email address by opening this link:\n${frontendUrl}/verify-email?token=${token}\n\nOr enter this code:\n${token}\n`,
  };
}

export function passwordResetMail(
  to: string,
  frontendUrl: string,
  token: string,
  minutes: number,
): MailMessage {
  return {
    to,
    subject: 'Reset your password',
    text:
      `Someone asked to reset the password of this account. If it was you, open this link within ${minutes} minutes:\n` +
      `${frontendUrl}/reset-password?token=${token}\n\nOr enter this code:\n${token}\n\nIf it was not you, ignore this message.\n`,
  };
}
