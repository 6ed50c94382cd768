import { FakeFailedLogins } from '../../../../test/fakes/failed-logins.fake';
import { FakeEmailVerification } from '../../../../test/fakes/mail.fake';
import { FakePasswordHasher } from '../../../../test/fakes/password-hasher.fake';
import { fakeMfaChallenges } from '../../../../test/fakes/mfa-challenges.fake';
import { FakeSessionsService } from '../../../../test/fakes/sessions.service.fake';
import { standIn } from '../../../../test/fakes/stand-in';
import { FakeUsersRepository } from '../../../../test/fakes/users.repository.fake';
import { makeUser } from '../../../../test/factories/user';
import { refusal } from '../../../../test/support/refusal';
import { loadConfig } from '../config/app-config';
import { PasswordPolicy } from '../crypto/password-policy';
import { AuthService } from './auth.service';

const PASSWORD = 'correct horse battery staple';
const client = { userAgent: 'jest', ip: '192.0.2.1' };
/** Stateless, and its 49k-entry list is worth building once. */
const policy = new PasswordPolicy();

describe('AuthService', () => {
  let users: FakeUsersRepository;
  let hasher: FakePasswordHasher;
  let sessions: FakeSessionsService;
  let verification: FakeEmailVerification;
  let failedLogins: FakeFailedLogins;
  let auth: AuthService;
  /** Users with TOTP enabled: their right password earns a challenge, not a session. */
  let withTotp: Set<string>;

  beforeEach(() => {
    users = new FakeUsersRepository();
    hasher = new FakePasswordHasher();
    sessions = new FakeSessionsService();
    verification = new FakeEmailVerification();
    failedLogins = new FakeFailedLogins();
    withTotp = new Set();
    const challenges = fakeMfaChallenges(withTotp);
    auth = new AuthService(
      standIn(users),
      standIn(sessions),
      standIn(hasher),
      policy,
      standIn(verification),
      standIn(failedLogins),
      standIn(challenges),
      loadConfig({}),
    );
  });

  describe('login', () => {
    it('gives an unknown email and a wrong password the same error, after the same hashing work', async () => {
      const ada = users.add(makeUser(), FakePasswordHasher.hashOf(PASSWORD));

      const unknown = await refusal(auth.login({ email: 'nobody@example.test', password: PASSWORD }, client));
      const unknownWork = hasher.verifications.splice(0);
      const wrong = await refusal(auth.login({ email: ada.email, password: 'not the password' }, client));
      const wrongWork = hasher.verifications.splice(0);

      expect(unknown).toEqual({
        code: 'invalid_credentials',
        status: 401,
        message: 'Invalid email or password',
      });
      expect(wrong).toEqual(unknown);
      // One verification each: against the dummy hash for the unknown email, the real one otherwise.
      expect(unknownWork).toEqual([null]);
      expect(wrongWork).toEqual([FakePasswordHasher.hashOf(PASSWORD)]);
      expect(sessions.started).toEqual([]);
      // Both recorded as failed logins: the unknown email without a user.
      expect(failedLogins.recorded).toEqual([
        { email: 'nobody@example.test', userId: null, client },
        { email: ada.email, userId: ada.id, client },
      ]);
    });

    it('refuses an account without a password (OAuth only) like a wrong password', async () => {
      const oauthOnly = users.add(makeUser(), null);
      expect(await refusal(auth.login({ email: oauthOnly.email, password: PASSWORD }, client))).toEqual(
        expect.objectContaining({ code: 'invalid_credentials' }),
      );
      expect(hasher.verifications).toEqual([null]);
    });

    it('answers account_disabled for a disabled account, only once the password is right', async () => {
      const ada = users.add(makeUser(), FakePasswordHasher.hashOf(PASSWORD));
      users.disable(ada.id);
      expect(await refusal(auth.login({ email: ada.email, password: 'not the password' }, client))).toEqual(
        expect.objectContaining({ code: 'invalid_credentials' }),
      );
      expect(await refusal(auth.login({ email: ada.email, password: PASSWORD }, client))).toEqual(
        expect.objectContaining({ code: 'account_disabled', status: 403 }),
      );
      expect(sessions.started).toEqual([]);
    });

    it('starts a session for the right password', async () => {
      const ada = users.add(makeUser(), FakePasswordHasher.hashOf(PASSWORD));
      const tokens = await auth.login({ email: ada.email, password: PASSWORD }, client);
      expect(sessions.started).toEqual([{ user: ada, client, options: {} }]);
      expect(tokens).toEqual(expect.objectContaining({ user: ada }));
    });

    it('answers the MFA challenge, and starts no session, when the account has TOTP', async () => {
      const ada = users.add(makeUser(), FakePasswordHasher.hashOf(PASSWORD));
      withTotp.add(ada.id);
      const answer = await auth.login({ email: ada.email, password: PASSWORD }, client);
      expect(answer).toEqual({
        mfaRequired: true,
        mfaToken: `pwd:${ada.id}`,
        methods: ['totp', 'recovery_code'],
        expiresIn: 300,
      });
      expect(sessions.started).toEqual([]);
    });

    it('refuses a wrong password of a TOTP account as any other (no challenge)', async () => {
      const ada = users.add(makeUser(), FakePasswordHasher.hashOf(PASSWORD));
      withTotp.add(ada.id);
      expect(
        (await refusal(auth.login({ email: ada.email, password: 'not the password' }, client))).code,
      ).toBe('invalid_credentials');
    });
  });

  describe('register', () => {
    it('stores a hash of the password, never the password, mails a verification and signs in', async () => {
      const tokens = await auth.register(
        { email: 'ada@example.test', password: PASSWORD, name: 'Ada' },
        client,
      );
      expect(tokens.user).toEqual(expect.objectContaining({ email: 'ada@example.test', name: 'Ada' }));
      expect(users.passwordHashOf(tokens.user.id)).toBe(FakePasswordHasher.hashOf(PASSWORD));
      expect(verification.sentTo).toEqual([tokens.user]);
      expect(sessions.started).toEqual([{ user: tokens.user, client, options: { method: 'registration' } }]);
    });

    it('checks the password rules first: a common password is refused before the email check, hashing or a write', async () => {
      const taken = users.add(makeUser());
      expect(await refusal(auth.register({ email: taken.email, password: 'password123' }, client))).toEqual(
        expect.objectContaining({ code: 'weak_password', status: 400 }),
      );
      expect({ hashes: hasher.hashes, users: users.count() }).toEqual({ hashes: 0, users: 1 });
    });

    it('refuses a password that is the email name itself', async () => {
      expect(
        await refusal(
          auth.register({ email: 'margaret.hamilton@example.test', password: 'Margaret.Hamilton' }, client),
        ),
      ).toEqual(expect.objectContaining({ code: 'weak_password' }));
    });

    it('answers email_taken for a registered email, before any hashing', async () => {
      const taken = users.add(makeUser());
      expect(await refusal(auth.register({ email: taken.email, password: PASSWORD }, client))).toEqual(
        expect.objectContaining({ code: 'email_taken', status: 409 }),
      );
      expect(hasher.hashes).toBe(0);
      expect(verification.sentTo).toEqual([]);
    });

    it('answers email_taken when a concurrent registration wins between the check and the insert', async () => {
      const email = 'race@example.test';
      const create = users.create.bind(users);
      // The other registration lands just before ours is written.
      users.create = async (data) => {
        await create({ ...data, passwordHash: 'theirs' });
        return create(data);
      };
      expect(await refusal(auth.register({ email, password: PASSWORD }, client))).toEqual(
        expect.objectContaining({ code: 'email_taken' }),
      );
      expect(sessions.started).toEqual([]);
      expect(verification.sentTo).toEqual([]);
    });
  });

  describe('refresh and logout', () => {
    it('answers invalid_refresh_token without a token, without reaching the sessions', async () => {
      expect(await refusal(auth.refresh(undefined))).toEqual(
        expect.objectContaining({ code: 'invalid_refresh_token', status: 401 }),
      );
      expect(sessions.refreshed).toEqual([]);
    });

    it('revokes the current session on logout and every session on logout-all, each with its reason', async () => {
      const principal = { userId: 'user-1', sessionId: 'session-1' };
      await auth.logout(principal, client);
      await auth.logoutAll(principal, client);
      expect(sessions.revoked).toEqual([
        { sessionId: 'session-1', reason: 'logout', event: 'logout' },
        { userId: 'user-1', reason: 'logout_all', event: 'logout_all' },
      ]);
    });
  });
});
