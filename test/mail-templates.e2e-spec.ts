import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { MailSink } from './support/mail-sink';

const FRONTEND = 'https://app.e2e.test';

/**
 * The account mails as a user receives them through a real SMTP server: text and HTML, links to
 * FRONTEND_URL, the language of the user's profile locale, and an operator's template folder
 * (MAIL_TEMPLATES_DIR) replacing one shipped file.
 */
describe('mail templates: FRONTEND_URL, locale, MAIL_TEMPLATES_DIR', () => {
  let a: Instance;
  let mail: MailSink;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mail-templates-e2e-'));
    mkdirSync(join(dir, 'en'));
    writeFileSync(
      join(dir, 'en', 'reset-password.html.liquid'),
      '<p>Acme: <a href="{{ link }}">reset</a> within {{ expiresInMinutes }} minutes</p>',
    );
    mail = await MailSink.start();
    a = await startInstance({ SMTP_URL: mail.url, FRONTEND_URL: `${FRONTEND}/`, MAIL_TEMPLATES_DIR: dir });
  });
  afterAll(async () => {
    await a?.close();
    await mail?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const forgot = async (email: string) =>
    expect((await a.http.post('/api/v1/auth/password/forgot', { email })).status).toBe(202);

  it('verification: English text and HTML, the link on the frontend', async () => {
    const user = await UserFactory.register(a.http);
    const sent = await mail.waitFor(user.email, /^Confirm your email address$/);
    const token = MailSink.tokenOf(sent);
    const link = `${FRONTEND}/verify-email?token=${token}`;
    expect(sent.text).toContain(`${link}\n`);
    expect(sent.html).toContain(`<a href="${link}">`);
  });

  it('a user whose profile says de-AT gets German mail; the operator template replaces only its own file', async () => {
    const user = await UserFactory.register(a.http);
    const patched = await a.http.patch(
      '/api/v1/users/me/profile',
      { locale: 'de-AT' },
      { token: user.tokens.accessToken },
    );
    expect(patched.status).toBe(200);
    await forgot(user.email);
    const german = await mail.waitFor(user.email, /^Passwort zurücksetzen$/);
    expect(german.text).toMatch(/^Jemand möchte das Passwort dieses Kontos zurücksetzen\./);
    expect(german.text).toContain(`${FRONTEND}/reset-password?token=`);
    expect(german.html).toContain('<html lang="de">'); // the operator overrode English only

    const english = await UserFactory.register(a.http);
    await forgot(english.email);
    const sent = await mail.waitFor(english.email, /^Reset your password$/);
    const token = MailSink.tokenOf(sent);
    expect(sent.html).toBe(
      `<p>Acme: <a href="${FRONTEND}/reset-password?token=${token}">reset</a> within 30 minutes</p>`,
    );
    expect(sent.text).toContain(`${FRONTEND}/reset-password?token=${token}\n`);
  });

  it('a broken operator template stops the start, naming the file and the fault', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'mail-templates-broken-'));
    try {
      mkdirSync(join(broken, 'de'));
      writeFileSync(join(broken, 'de', 'verify-email.text.liquid'), 'Hallo {{ emial }}');
      await expect(startInstance({ MAIL_TEMPLATES_DIR: broken })).rejects.toThrow(
        `${join(broken, 'de', 'verify-email.text.liquid')}: undefined variable: emial`,
      );
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});
