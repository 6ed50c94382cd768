import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localeChain, MailTemplates } from './mail-templates';

const VERIFY = {
  email: "o'brien@example.com",
  link: 'https://app.example/verify-email?token=tok',
  token: 'tok',
  expiresInHours: 24,
};

describe('MailTemplates', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mail-templates-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (path: string, content: string) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  };
  const loadError = async (operatorDir: string) =>
    MailTemplates.load(operatorDir).then(
      () => '',
      (error: Error) => error.message,
    );

  it('ships English: subject, text and HTML, the HTML escaped and the text not', async () => {
    const mail = await (await MailTemplates.load()).render('verify-email', null, VERIFY);
    expect(mail.subject).toBe('Confirm your email address');
    expect(mail.text).toContain('opening this link:\nhttps://app.example/verify-email?token=tok\n');
    expect(mail.text).toContain('Or enter this code:\ntok\n');
    expect(mail.html).toContain('<a href="https://app.example/verify-email?token=tok">');
    expect(mail.html).toContain('o&#39;brien@example.com');
    expect(mail.html).not.toContain("o'brien");
  });

  it('picks the language of the locale, its base language, else English', async () => {
    const templates = await MailTemplates.load();
    const subjectIn = async (locale: string | null) =>
      (await templates.render('reset-password', locale, { ...VERIFY, expiresInMinutes: 30 })).subject;
    expect(await subjectIn('de')).toBe('Passwort zurücksetzen');
    expect(await subjectIn('de-AT')).toBe('Passwort zurücksetzen');
    expect(await subjectIn('fr-CA')).toBe('Reset your password');
    expect(await subjectIn(null)).toBe('Reset your password');
    expect(await subjectIn('not a tag!')).toBe('Reset your password');
  });

  it('an operator folder wins file by file and can add a language, text only', async () => {
    write('en/verify-email.html.liquid', '<p>Ours: <a href="{{ link }}">go</a></p>');
    write('fr/verify-email.subject.liquid', 'Confirmez\nvotre adresse\n');
    write('fr/verify-email.text.liquid', 'Ouvrez {{ link }}');
    const templates = await MailTemplates.load(dir);
    const en = await templates.render('verify-email', 'en-GB', VERIFY);
    expect(en.html).toBe('<p>Ours: <a href="https://app.example/verify-email?token=tok">go</a></p>');
    expect(en.subject).toBe('Confirm your email address'); // the shipped one
    expect(await templates.render('verify-email', 'fr', VERIFY)).toEqual({
      subject: 'Confirmez votre adresse',
      text: 'Ouvrez https://app.example/verify-email?token=tok',
    });
  });

  it('refuses at load, naming each: an unknown variable, a half template, a stray file, a bad language', async () => {
    write('en/verify-email.text.liquid', 'Open {{ lnik }}');
    write('fr/reset-password.text.liquid', 'Ouvrez {{ link }}');
    write('en/verify-mail.text.liquid', 'typo in the name');
    write('en_GB/verify-email.subject.liquid', 'Hi');
    const message = await loadError(dir);
    expect(message).toMatch(/^Mail templates: /);
    expect(message).toContain(`${join(dir, 'en/verify-email.text.liquid')}: undefined variable: lnik`);
    expect(message).toContain('fr/reset-password: needs both a subject and a text template');
    expect(message).toContain(
      `${join(dir, 'en/verify-mail.text.liquid')}: not <verify-email|reset-password>`,
    );
    expect(message).toContain(`${join(dir, 'en_GB/verify-email.subject.liquid')}: "en_gb" is not a BCP 47`);
  });

  it('refuses a MAIL_TEMPLATES_DIR that is not a directory', async () => {
    expect(await loadError(join(dir, 'missing'))).toBe(
      `MAIL_TEMPLATES_DIR ${join(dir, 'missing')} is not a readable directory`,
    );
  });

  it('localeChain: most specific first, English last, once', () => {
    expect(localeChain('zh-Hant-TW')).toEqual(['zh-hant-tw', 'zh-hant', 'zh', 'en']);
    expect(localeChain('en-US')).toEqual(['en-us', 'en']);
    expect(localeChain(undefined)).toEqual(['en']);
  });
});
