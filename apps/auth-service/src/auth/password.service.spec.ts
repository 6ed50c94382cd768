import { FakeMail, FakeProfiles } from '../../../../test/fakes/mail.fake';
import { FakePasswordHasher } from '../../../../test/fakes/password-hasher.fake';
import { FakeEmailTokens, FakePasswordsRepository } from '../../../../test/fakes/passwords.fake';
import { standIn } from '../../../../test/fakes/stand-in';
import { FakeUsersRepository } from '../../../../test/fakes/users.repository.fake';
import { makeUser } from '../../../../test/factories/user';
import { codeOf } from '../../../../test/support/refusal';
import { waitUntil } from '../../../../test/support/wait-until';
import { loadConfig } from '../config/app-config';
import { PasswordPolicy } from '../crypto/password-policy';
import { MailTemplates } from '../mail/mail-templates';
import { hashSecretToken, newSecretToken } from '../crypto/secret-tokens';
import { AuthMails } from './auth-mails';
import { PasswordService } from './password.service';

const OLD = 'correct horse battery staple';
const NEW = 'a much longer passphrase, still mine';
/** Stateless, and its 49k-entry list is worth building once. */
const policy = new PasswordPolicy();

describe('PasswordService', () => {
  let templates: MailTemplates;
  beforeAll(async () => {
    templates = await MailTemplates.load();
  });
  let users: FakeUsersRepository;
  let tokens: FakeEmailTokens;
  let passwords: FakePasswordsRepository;
  let hasher: FakePasswordHasher;
  let mail: FakeMail;
  let service: PasswordService;

  beforeEach(() => {
    users = new FakeUsersRepository();
    tokens = new FakeEmailTokens();
    passwords = new FakePasswordsRepository(users, tokens);
    hasher = new FakePasswordHasher();
    mail = new FakeMail();
    service = new PasswordService(
      standIn(users),
      standIn(tokens),
      standIn(passwords),
      standIn(hasher),
      policy,
      new AuthMails(
        standIn(mail),
        templates,
        standIn(new FakeProfiles()),
        loadConfig({ APP_URL: 'https://auth.example' }),
      ),
    );
  });

  /** A reset token of `userId`'s, stored as the forgot flow stores it (its hash only). */
  async function resetTokenFor(userId: string, expiresAt = new Date(Date.now() + 60_000)): Promise<string> {
    const { token, hash } = newSecretToken();
    await tokens.create(userId, 'reset_password', hash, expiresAt);
    return token;
  }

  describe('reset', () => {
    it('checks the token before the password rules: a bad token with a weak password is invalid_reset_token', async () => {
      expect(await codeOf(service.reset({ token: 'not-a-token', newPassword: 'password' }))).toBe(
        'invalid_reset_token',
      );
      expect(hasher.hashes).toBe(0);
    });

    it('refuses a weak password for a good token, and leaves the token unspent', async () => {
      const ada = users.add(makeUser({ email: 'ada.lovelace@example.test' }), FakePasswordHasher.hashOf(OLD));
      const token = await resetTokenFor(ada.id);

      expect(await codeOf(service.reset({ token, newPassword: 'password' }))).toBe('weak_password');
      expect(await codeOf(service.reset({ token, newPassword: 'Ada.Lovelace' }))).toBe('weak_password');
      expect(users.passwordHashOf(ada.id)).toBe(FakePasswordHasher.hashOf(OLD));
      await service.reset({ token, newPassword: NEW });
      expect(users.passwordHashOf(ada.id)).toBe(FakePasswordHasher.hashOf(NEW));
    });

    it('sets the new password once, revokes every session, and the token cannot be spent again', async () => {
      const ada = users.add(makeUser(), FakePasswordHasher.hashOf(OLD));
      const token = await resetTokenFor(ada.id);

      await service.reset({ token, newPassword: NEW });
      expect(users.passwordHashOf(ada.id)).toBe(FakePasswordHasher.hashOf(NEW));
      expect(passwords.revocations).toEqual([{ userId: ada.id, reason: 'password_reset' }]);
      expect(await codeOf(service.reset({ token, newPassword: 'yet another passphrase' }))).toBe(
        'invalid_reset_token',
      );
    });

    it('refuses an expired token', async () => {
      const ada = users.add(makeUser(), FakePasswordHasher.hashOf(OLD));
      const token = await resetTokenFor(ada.id, new Date(Date.now() - 1));
      expect(await codeOf(service.reset({ token, newPassword: NEW }))).toBe('invalid_reset_token');
    });

    it('answers invalid_reset_token when a concurrent reset spent the token after the check', async () => {
      const ada = users.add(makeUser(), FakePasswordHasher.hashOf(OLD));
      const token = await resetTokenFor(ada.id);
      const hash = hasher.hash.bind(hasher);
      // The other reset commits while ours hashes its password.
      hasher.hash = async (password) => {
        await passwords.resetPassword(hashSecretToken(token), FakePasswordHasher.hashOf('theirs'));
        return hash(password);
      };
      expect(await codeOf(service.reset({ token, newPassword: NEW }))).toBe('invalid_reset_token');
      expect(users.passwordHashOf(ada.id)).toBe(FakePasswordHasher.hashOf('theirs'));
    });
  });

  describe('forgot', () => {
    it('mails a token whose hash alone is stored, and that token resets the password', async () => {
      const ada = users.add(makeUser(), FakePasswordHasher.hashOf(OLD));
      service.forgot(ada.email);
      const [sent] = await waitUntil(() => mail.sent, { what: 'the reset mail', until: (m) => m.length > 0 });

      const token = /code:\n(\S+)/.exec(sent?.text ?? '')?.[1] ?? '';
      expect(sent).toEqual(expect.objectContaining({ to: ada.email, subject: 'Reset your password' }));
      expect(sent?.text).toContain(`https://auth.example/reset-password?token=${token}`);
      expect(tokens.rows).toEqual([
        expect.objectContaining({ userId: ada.id, tokenHash: hashSecretToken(token) }),
      ]);
      expect(JSON.stringify(tokens.rows)).not.toContain(token);

      await service.reset({ token, newPassword: NEW });
      expect(users.passwordHashOf(ada.id)).toBe(FakePasswordHasher.hashOf(NEW));
    });

    it('mails nothing and stores no token for an unknown email', async () => {
      expect(service.forgot('nobody@example.test')).toBeUndefined();
      await new Promise((resolve) => setImmediate(resolve));
      expect({ mails: mail.sent, tokens: tokens.rows }).toEqual({ mails: [], tokens: [] });
    });
  });

  describe('change', () => {
    it('refuses a wrong current password and changes nothing', async () => {
      const ada = users.add(makeUser(), FakePasswordHasher.hashOf(OLD));
      expect(
        await codeOf(service.change(ada.id, 'session-1', { currentPassword: 'wrong', newPassword: NEW })),
      ).toBe('invalid_credentials');
      expect(users.passwordHashOf(ada.id)).toBe(FakePasswordHasher.hashOf(OLD));
      expect(passwords.revocations).toEqual([]);
    });

    it('refuses a weak new password after the current one checked out', async () => {
      const ada = users.add(makeUser(), FakePasswordHasher.hashOf(OLD));
      expect(
        await codeOf(service.change(ada.id, 'session-1', { currentPassword: OLD, newPassword: 'qwerty123' })),
      ).toBe('weak_password');
      expect(users.passwordHashOf(ada.id)).toBe(FakePasswordHasher.hashOf(OLD));
    });

    it("stores the new hash and revokes every other session, keeping the caller's", async () => {
      const ada = users.add(makeUser(), FakePasswordHasher.hashOf(OLD));
      await service.change(ada.id, 'session-1', { currentPassword: OLD, newPassword: NEW });
      expect(users.passwordHashOf(ada.id)).toBe(FakePasswordHasher.hashOf(NEW));
      expect(passwords.revocations).toEqual([
        { userId: ada.id, reason: 'password_change', keptSessionId: 'session-1' },
      ]);
    });

    it('refuses an account without a password (OAuth only) as a wrong current password', async () => {
      const oauthOnly = users.add(makeUser(), null);
      expect(
        await codeOf(service.change(oauthOnly.id, 'session-1', { currentPassword: '', newPassword: NEW })),
      ).toBe('invalid_credentials');
    });
  });
});
