import { Client } from 'pg';
import {
  expectError,
  RegisteredUser,
  strongPassword,
  TokenResponse,
  uniqueEmail,
  UserFactory,
} from './support/factories';
import { baseEnv, Instance, startInstance } from './support/instance';
import { MailSink } from './support/mail-sink';

const RESET_SUBJECT = /reset your password/i;
const VERIFY_SUBJECT = /confirm your email/i;

describe('password: change, forgot, reset', () => {
  let a: Instance;
  let mail: MailSink;
  let db: Client;

  beforeAll(async () => {
    mail = await MailSink.start();
    // The links go to the frontend: FRONTEND_URL unset, APP_URL stands in for it.
    a = await startInstance({ SMTP_URL: mail.url });
    db = new Client({ connectionString: process.env.E2E_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await a?.close();
    await mail?.stop();
  });

  const login = (email: string, password: string) => a.http.post('/api/v1/auth/login', { email, password });

  const expectAlive = async (tokens: TokenResponse) => {
    expect((await a.http.get('/api/v1/auth/me', { token: tokens.accessToken })).status).toBe(200);
  };

  /** Access token refused at once, refresh token refused too (checked last: a refresh rotates it). */
  const expectRevoked = async (tokens: TokenResponse) => {
    expectError(await a.http.get('/api/v1/auth/me', { token: tokens.accessToken }), 401, 'invalid_token');
    expectError(
      await a.http.post('/api/v1/auth/refresh', { refreshToken: tokens.refreshToken }),
      401,
      'invalid_refresh_token',
    );
  };

  /** The password still in force is `current`, and `rejected` does not log in. */
  const expectPassword = async (email: string, current: string, rejected: string) => {
    expect((await login(email, current)).status).toBe(200);
    expectError(await login(email, rejected), 401, 'invalid_credentials');
  };

  async function requestResetToken(email: string): Promise<string> {
    const res = await a.http.post('/api/v1/auth/password/forgot', { email });
    expect(res.status).toBe(202);
    const sent = await mail.waitFor(email, RESET_SUBJECT);
    const token = MailSink.tokenOf(sent);
    expect(sent.text).toContain(`${baseEnv().APP_URL}/reset-password?token=${token}\n`);
    return token;
  }

  describe('POST /auth/password/change', () => {
    const change = (token: string, body: unknown) =>
      a.http.post('/api/v1/auth/password/change', body, { token });

    it('counts wrong current passwords per user: over the limit 429, even with the right one; others unaffected', async () => {
      const limited = await startInstance({
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMIT_PASSWORD_CHANGE_FAILURES: '3/60',
        CACHE_KEY_PREFIX: `pwchange_${Date.now()}`,
      });
      try {
        const user = await UserFactory.register(limited.http);
        const other = await UserFactory.register(limited.http);
        const attempt = (who: RegisteredUser, currentPassword: string) =>
          limited.http.post(
            '/api/v1/auth/password/change',
            { currentPassword, newPassword: strongPassword() },
            { token: who.tokens.accessToken },
          );
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++)
          statuses.push((await attempt(user, `wrong-${i}-${strongPassword()}`)).status);
        expect(statuses).toEqual([401, 401, 401, 429]);
        expectError(await attempt(user, user.password), 429, 'too_many_requests');
        expect((await attempt(other, other.password)).status).toBe(204);
      } finally {
        await limited.close();
      }
    });

    it('answers 204: the current session keeps working, every other one is revoked, the new password is in force', async () => {
      const user = await UserFactory.register(a.http);
      const current = await UserFactory.login(a.http, user);
      const other = await UserFactory.login(a.http, user);
      const newPassword = strongPassword();

      const res = await change(current.accessToken, { currentPassword: user.password, newPassword });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');

      await expectAlive(current);
      await expectRevoked(user.tokens);
      await expectRevoked(other);
      const sessions = await a.http.get('/api/v1/auth/sessions', { token: current.accessToken });
      expect(sessions.body).toHaveLength(1);
      expect(sessions.body[0].current).toBe(true);
      // The current session's refresh token still rotates.
      const refreshed = await a.http.post('/api/v1/auth/refresh', { refreshToken: current.refreshToken });
      expect(refreshed.status).toBe(200);
      await expectAlive(refreshed.body);

      await expectPassword(user.email, newPassword, user.password);
    });

    it('answers 401 invalid_credentials for a wrong current password, and changes nothing', async () => {
      const user = await UserFactory.register(a.http);
      const other = await UserFactory.login(a.http, user);
      const newPassword = strongPassword();

      const res = await change(user.tokens.accessToken, {
        currentPassword: 'Not-the-password-1',
        newPassword,
      });
      expectError(res, 401, 'invalid_credentials');

      await expectAlive(user.tokens);
      await expectAlive(other);
      await expectPassword(user.email, user.password, newPassword);
    });

    it.each([['password123'], ['PASSWORD123'], ['qwertyuiop']])(
      'answers 400 weak_password for the common password %p, and changes nothing',
      async (weak) => {
        const user = await UserFactory.register(a.http);
        const other = await UserFactory.login(a.http, user);
        const res = await change(user.tokens.accessToken, {
          currentPassword: user.password,
          newPassword: weak,
        });
        expectError(res, 400, 'weak_password');
        await expectAlive(other);
        await expectPassword(user.email, user.password, weak);
      },
    );

    it.each([
      ['an empty body', {}],
      ['a missing currentPassword', { newPassword: 'Tr0ub4dor-aaaaaaaa' }],
      ['a missing newPassword', { currentPassword: 'Tr0ub4dor-aaaaaaaa' }],
      ['a short newPassword', { currentPassword: 'Tr0ub4dor-aaaaaaaa', newPassword: 'short' }],
      [
        'a newPassword over 128 characters',
        { currentPassword: 'Tr0ub4dor-aaaaaaaa', newPassword: 'x'.repeat(129) },
      ],
      ['a wrong type', { currentPassword: 'Tr0ub4dor-aaaaaaaa', newPassword: 123456789 }],
      [
        'an unknown field',
        { currentPassword: 'Tr0ub4dor-aaaaaaaa', newPassword: 'Tr0ub4dor-bbbbbbbb', userId: 'x' },
      ],
    ])('answers 400 validation_failed for %s', async (_case, body) => {
      const user = await UserFactory.register(a.http);
      const res = await change(user.tokens.accessToken, body);
      expectError(res, 400, 'validation_failed');
      expect(Array.isArray(res.body.message)).toBe(true);
      expect((await login(user.email, user.password)).status).toBe(200);
    });

    it('answers 401 invalid_token without a valid token, and changes nothing', async () => {
      const user = await UserFactory.register(a.http);
      const newPassword = strongPassword();
      const body = { currentPassword: user.password, newPassword };
      const res = await a.http.post('/api/v1/auth/password/change', body);
      expectError(res, 401, 'invalid_token');
      expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expectError(
        await a.http.post('/api/v1/auth/password/change', body, { token: 'x.y.z' }),
        401,
        'invalid_token',
      );
      await expectPassword(user.email, user.password, newPassword);
    });

    it('answers 401 invalid_token with the token of a revoked session', async () => {
      const user = await UserFactory.register(a.http);
      expect(
        (await a.http.post('/api/v1/auth/logout', undefined, { token: user.tokens.accessToken })).status,
      ).toBe(204);
      const newPassword = strongPassword();
      expectError(
        await change(user.tokens.accessToken, { currentPassword: user.password, newPassword }),
        401,
        'invalid_token',
      );
      await expectPassword(user.email, user.password, newPassword);
    });
  });

  describe('POST /auth/password/forgot', () => {
    it('answers 202 with the same answer for an existing and an unknown email; only the existing one gets a mail', async () => {
      const user = await UserFactory.register(a.http);
      const unknownEmail = uniqueEmail('nobody');

      const unknown = await a.http.post('/api/v1/auth/password/forgot', { email: unknownEmail });
      const known = await a.http.post('/api/v1/auth/password/forgot', { email: user.email });
      expect(unknown.status).toBe(202);
      expect(known.status).toBe(202);
      expect(unknown.text).toBe(known.text);
      expect(unknown.headers.get('content-type')).toBe(known.headers.get('content-type'));

      const sent = await mail.waitFor(user.email, RESET_SUBJECT);
      expect(sent.to).toEqual([user.email]);
      expect(MailSink.tokenOf(sent)).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      // The known account's mail was requested after the unknown one and has arrived: had the
      // unknown email produced one, it would be here by now.
      expect(mail.messages.filter((m) => m.to.includes(unknownEmail))).toHaveLength(0);
    });

    it('trims and lower-cases the email before looking the account up', async () => {
      const user = await UserFactory.register(a.http);
      const res = await a.http.post('/api/v1/auth/password/forgot', {
        email: `  ${user.email.toUpperCase()} `,
      });
      expect(res.status).toBe(202);
      const sent = await mail.waitFor(user.email, RESET_SUBJECT);
      expect(sent.to).toEqual([user.email]);
    });

    it('sends a token that differs from request to request', async () => {
      const user = await UserFactory.register(a.http);
      const first = await requestResetToken(user.email);
      expect((await a.http.post('/api/v1/auth/password/forgot', { email: user.email })).status).toBe(202);
      const second = MailSink.tokenOf(
        await mail.waitFor(user.email, newerThan(user.email, RESET_SUBJECT, 1)),
      );
      expect(second).not.toBe(first);
    });

    it.each([
      ['a bad email', { email: 'not-an-email' }],
      ['a missing email', {}],
      ['a wrong type', { email: ['a@example.test'] }],
      ['an unknown field', { email: 'a@example.test', redirect: 'https://evil.test' }],
    ])('answers 400 validation_failed for %s', async (_case, body) => {
      const res = await a.http.post('/api/v1/auth/password/forgot', body);
      expectError(res, 400, 'validation_failed');
    });
  });

  describe('POST /auth/password/reset', () => {
    const reset = (body: unknown) => a.http.post('/api/v1/auth/password/reset', body);

    it('answers 204 with the mailed token: every session revoked, the new password logs in', async () => {
      const user = await UserFactory.register(a.http);
      const other = await UserFactory.login(a.http, user);
      const token = await requestResetToken(user.email);
      const newPassword = strongPassword();

      const res = await reset({ token, newPassword });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');

      await expectRevoked(user.tokens);
      await expectRevoked(other);
      await expectPassword(user.email, newPassword, user.password);
    });

    it('is single-use: a second use answers 400 invalid_reset_token and changes nothing', async () => {
      const user = await UserFactory.register(a.http);
      const token = await requestResetToken(user.email);
      const first = strongPassword();
      expect((await reset({ token, newPassword: first })).status).toBe(204);
      const session = await UserFactory.login(a.http, { email: user.email, password: first });

      const second = strongPassword();
      expectError(await reset({ token, newPassword: second }), 400, 'invalid_reset_token');
      await expectPassword(user.email, first, second);
      await expectAlive(session);
    });

    it('answers 400 invalid_reset_token for an unknown token', async () => {
      const res = await reset({ token: 'A'.repeat(43), newPassword: strongPassword() });
      expectError(res, 400, 'invalid_reset_token');
      expectError(await reset({ token: 'x', newPassword: strongPassword() }), 400, 'invalid_reset_token');
    });

    it('answers 400 invalid_reset_token for an email-verification token', async () => {
      const user = await UserFactory.register(a.http);
      const verifyToken = MailSink.tokenOf(await mail.waitFor(user.email, VERIFY_SUBJECT));
      const newPassword = strongPassword();
      expectError(await reset({ token: verifyToken, newPassword }), 400, 'invalid_reset_token');
      await expectPassword(user.email, user.password, newPassword);
      await expectAlive(user.tokens);
    });

    it('answers 400 invalid_reset_token for an expired token, and changes nothing', async () => {
      const user: RegisteredUser = await UserFactory.register(a.http);
      const token = await requestResetToken(user.email);
      const { rowCount } = await db.query(
        `UPDATE email_tokens SET expires_at = now() - interval '1 second'
          WHERE user_id = $1 AND purpose = 'reset_password' AND used_at IS NULL`,
        [user.tokens.user.id],
      );
      expect(rowCount).toBe(1);

      const newPassword = strongPassword();
      expectError(await reset({ token, newPassword }), 400, 'invalid_reset_token');
      await expectPassword(user.email, user.password, newPassword);
      await expectAlive(user.tokens);
    });

    it('answers 400 weak_password for a common new password, writes nothing, and the token still works', async () => {
      const user = await UserFactory.register(a.http);
      const token = await requestResetToken(user.email);

      expectError(await reset({ token, newPassword: 'password123' }), 400, 'weak_password');
      await expectAlive(user.tokens);
      await expectPassword(user.email, user.password, 'password123');

      const newPassword = strongPassword();
      expect((await reset({ token, newPassword })).status).toBe(204);
      await expectRevoked(user.tokens);
      await expectPassword(user.email, newPassword, user.password);
    });

    it.each([
      ['an empty body', {}],
      ['a missing token', { newPassword: 'Tr0ub4dor-aaaaaaaa' }],
      ['a missing newPassword', { token: 'A'.repeat(43) }],
      ['an empty token', { token: '', newPassword: 'Tr0ub4dor-aaaaaaaa' }],
      ['a short newPassword', { token: 'A'.repeat(43), newPassword: 'short' }],
      ['a newPassword over 128 characters', { token: 'A'.repeat(43), newPassword: 'x'.repeat(129) }],
      ['a wrong type', { token: 12345, newPassword: 'Tr0ub4dor-aaaaaaaa' }],
      [
        'an unknown field',
        { token: 'A'.repeat(43), newPassword: 'Tr0ub4dor-aaaaaaaa', email: 'a@example.test' },
      ],
    ])('answers 400 validation_failed for %s', async (_case, body) => {
      const res = await reset(body);
      expectError(res, 400, 'validation_failed');
      expect(Array.isArray(res.body.message)).toBe(true);
    });

    it('checks the token before the password rules: unknown token with a weak password is invalid_reset_token', async () => {
      expectError(
        await reset({ token: 'B'.repeat(43), newPassword: 'password123' }),
        400,
        'invalid_reset_token',
      );
    });

    it('refuses the local part of the email as the new password, like register and change do', async () => {
      const local = `rosalind${Date.now()}`;
      const user = await UserFactory.register(a.http, { email: `${local}@example.test` });
      const token = await requestResetToken(user.email);
      expectError(await reset({ token, newPassword: local }), 400, 'weak_password');
      await expectPassword(user.email, user.password, local);
    });

    it('is voided by a password change made in the meantime', async () => {
      const user = await UserFactory.register(a.http);
      const token = await requestResetToken(user.email);
      const changed = strongPassword();
      const change = await a.http.post(
        '/api/v1/auth/password/change',
        { currentPassword: user.password, newPassword: changed },
        { token: user.tokens.accessToken },
      );
      expect(change.status).toBe(204);
      expectError(await reset({ token, newPassword: strongPassword() }), 400, 'invalid_reset_token');
      await expectPassword(user.email, changed, user.password);
    });

    it('a validation failure does not spend a real token', async () => {
      const user = await UserFactory.register(a.http);
      const token = await requestResetToken(user.email);
      expectError(await reset({ token, newPassword: 'short' }), 400, 'validation_failed');
      const newPassword = strongPassword();
      expect((await reset({ token, newPassword })).status).toBe(204);
      await expectPassword(user.email, newPassword, user.password);
    });
  });

  describe('revocations are counted as every other revocation is', () => {
    /** auth_session_revocations_total{reason} as /metrics shows it now (0 before its first). */
    const revocations = async (reason: string): Promise<number> => {
      const text = (await a.http.get('/metrics')).text;
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`auth_session_revocations_total{reason="${reason}"}`));
      return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
    };

    it('a password change adds the sessions it revoked to {reason="password_change"}', async () => {
      const user = await UserFactory.register(a.http);
      const current = await UserFactory.login(a.http, user);
      await UserFactory.login(a.http, user);
      const before = await revocations('password_change');
      const res = await a.http.post(
        '/api/v1/auth/password/change',
        { currentPassword: user.password, newPassword: strongPassword() },
        { token: current.accessToken },
      );
      expect(res.status).toBe(204);
      // Every session but the current one: the registration's and the second login's.
      expect((await revocations('password_change')) - before).toBe(2);
    });

    it('a password reset adds the sessions it revoked to {reason="password_reset"}', async () => {
      const user = await UserFactory.register(a.http);
      await UserFactory.login(a.http, user);
      const token = await requestResetToken(user.email);
      const before = await revocations('password_reset');
      const res = await a.http.post('/api/v1/auth/password/reset', { token, newPassword: strongPassword() });
      expect(res.status).toBe(204);
      expect((await revocations('password_reset')) - before).toBe(2);
    });
  });

  /**
   * A subject matcher for MailSink.waitFor that only matches once more than `seen` mails to `to`
   * match `subject`: waits for the next mail instead of returning an earlier one.
   */
  function newerThan(to: string, subject: RegExp, seen: number): RegExp {
    const matcher = new RegExp(subject.source, subject.flags);
    matcher.test = (s: string) => subject.test(s) && mail.countTo(to, subject) > seen;
    return matcher;
  }
});
