import { Client } from 'pg';
import { expectError, RegisteredUser, UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { MailSink } from './support/mail-sink';
import { onlyRow } from './support/present';

const VERIFY_SUBJECT = /confirm your email/i;
const RESET_SUBJECT = /reset your password/i;

/** Where the links of the mails go: the frontend, not the service (APP_URL). */
const FRONTEND = 'https://app.e2e.test';

describe('email: verification mail, POST /auth/email/verify, POST /auth/email/resend', () => {
  let a: Instance;
  let mail: MailSink;
  let db: Client;

  beforeAll(async () => {
    mail = await MailSink.start();
    a = await startInstance({ SMTP_URL: mail.url, FRONTEND_URL: FRONTEND });
    db = new Client({ connectionString: process.env.E2E_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await a?.close();
    await mail?.stop();
  });

  const verify = (body: unknown) => a.http.post('/api/v1/auth/email/verify', body);
  const resend = (token?: string) =>
    a.http.post('/api/v1/auth/email/resend', undefined, token ? { token } : {});
  const me = (user: RegisteredUser) => a.http.get('/api/v1/auth/me', { token: user.tokens.accessToken });

  /**
   * A subject matcher for MailSink.waitFor that only matches once more than `seen` mails to `to`
   * match `subject`: waits for the next mail instead of returning an earlier one.
   */
  function newerThan(to: string, subject: RegExp, seen: number): RegExp {
    const matcher = new RegExp(subject.source, subject.flags);
    matcher.test = (s: string) => subject.test(s) && mail.countTo(to, subject) > seen;
    return matcher;
  }

  /** Registers a user and returns it with the token of its verification mail. */
  async function registerWithToken(): Promise<{ user: RegisteredUser; token: string }> {
    const user = await UserFactory.register(a.http);
    const token = MailSink.tokenOf(await mail.waitFor(user.email, VERIFY_SUBJECT));
    return { user, token };
  }

  async function verifyTokenRows(userId: string): Promise<number> {
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM email_tokens WHERE user_id = $1 AND purpose = 'verify_email'`,
      [userId],
    );
    return Number(onlyRow(rows).n);
  }

  /**
   * Proves a mail to `email` was NOT sent by a request made before this call: a reset mail is
   * requested afterwards and waited for, then the verification mails are counted.
   */
  async function barrier(email: string): Promise<void> {
    expect((await a.http.post('/api/v1/auth/password/forgot', { email })).status).toBe(202);
    await mail.waitFor(email, RESET_SUBJECT);
  }

  describe('registration', () => {
    it('sends one verification mail, with a token and a link to the frontend, to the new address', async () => {
      const user = await UserFactory.register(a.http);
      const sent = await mail.waitFor(user.email, VERIFY_SUBJECT);
      expect(sent.to).toEqual([user.email]);
      const token = MailSink.tokenOf(sent);
      expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      expect(sent.text).toContain(`${FRONTEND}/verify-email?token=${token}\n`);
      expect(sent.text).not.toContain(user.password);
      expect(user.tokens.user.emailVerified).toBe(false);
      await barrier(user.email);
      expect(mail.countTo(user.email, VERIFY_SUBJECT)).toBe(1);
    });
  });

  describe('POST /auth/email/verify', () => {
    it('answers 204 for the mailed token, and /auth/me then shows emailVerified true', async () => {
      const { user, token } = await registerWithToken();
      expect((await me(user)).body.emailVerified).toBe(false);

      const res = await verify({ token });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');

      const after = await me(user);
      expect(after.status).toBe(200);
      expect(after.body).toEqual({ ...user.tokens.user, emailVerified: true, updatedAt: expect.any(String) });
      expect((await UserFactory.login(a.http, user)).user.emailVerified).toBe(true);
    });

    it('answers 400 invalid_verification_token when the token is used again', async () => {
      const { user, token } = await registerWithToken();
      expect((await verify({ token })).status).toBe(204);
      expectError(await verify({ token }), 400, 'invalid_verification_token');
      expect((await me(user)).body.emailVerified).toBe(true);
    });

    it('answers 400 invalid_verification_token for an unknown token', async () => {
      expectError(await verify({ token: 'A'.repeat(43) }), 400, 'invalid_verification_token');
      expectError(await verify({ token: 'x' }), 400, 'invalid_verification_token');
    });

    it('answers 400 invalid_verification_token for a password-reset token, and verifies nothing', async () => {
      const { user } = await registerWithToken();
      expect((await a.http.post('/api/v1/auth/password/forgot', { email: user.email })).status).toBe(202);
      const resetToken = MailSink.tokenOf(await mail.waitFor(user.email, RESET_SUBJECT));
      expectError(await verify({ token: resetToken }), 400, 'invalid_verification_token');
      expect((await me(user)).body.emailVerified).toBe(false);
    });

    it('answers 400 invalid_verification_token for an expired token, and verifies nothing', async () => {
      const { user, token } = await registerWithToken();
      const { rowCount } = await db.query(
        `UPDATE email_tokens SET expires_at = now() - interval '1 second'
          WHERE user_id = $1 AND purpose = 'verify_email' AND used_at IS NULL`,
        [user.tokens.user.id],
      );
      expect(rowCount).toBe(1);
      expectError(await verify({ token }), 400, 'invalid_verification_token');
      expect((await me(user)).body.emailVerified).toBe(false);
    });

    it.each([
      ['an empty body', {}],
      ['an empty token', { token: '' }],
      ['a wrong type', { token: 12345 }],
      ['an unknown field', { token: 'A'.repeat(43), userId: 'x' }],
    ])('answers 400 validation_failed for %s', async (_case, body) => {
      const res = await verify(body);
      expectError(res, 400, 'validation_failed');
      expect(Array.isArray(res.body.message)).toBe(true);
    });
  });

  describe('POST /auth/email/resend', () => {
    it('answers 202 and a new mail arrives, whose token verifies the address', async () => {
      const { user, token: first } = await registerWithToken();

      const res = await resend(user.tokens.accessToken);
      expect(res.status).toBe(202);

      const sent = await mail.waitFor(user.email, newerThan(user.email, VERIFY_SUBJECT, 1));
      expect(mail.countTo(user.email, VERIFY_SUBJECT)).toBe(2);
      const second = MailSink.tokenOf(sent);
      expect(second).not.toBe(first);

      expect((await verify({ token: second })).status).toBe(204);
      expect((await me(user)).body.emailVerified).toBe(true);
    });

    it('answers 202 and sends no mail when the address is already verified', async () => {
      const { user, token } = await registerWithToken();
      expect((await verify({ token })).status).toBe(204);
      const rowsBefore = await verifyTokenRows(user.tokens.user.id);

      const res = await resend(user.tokens.accessToken);
      expect(res.status).toBe(202);

      await barrier(user.email);
      expect(mail.countTo(user.email, VERIFY_SUBJECT)).toBe(1);
      expect(await verifyTokenRows(user.tokens.user.id)).toBe(rowsBefore);
    });

    it('answers 401 invalid_token without a valid token, and sends nothing', async () => {
      const { user } = await registerWithToken();
      const res = await resend();
      expectError(res, 401, 'invalid_token');
      expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expectError(await resend('x.y.z'), 401, 'invalid_token');

      expect(
        (await a.http.post('/api/v1/auth/logout', undefined, { token: user.tokens.accessToken })).status,
      ).toBe(204);
      expectError(await resend(user.tokens.accessToken), 401, 'invalid_token');
      await barrier(user.email);
      expect(mail.countTo(user.email, VERIFY_SUBJECT)).toBe(1);
    });
  });
});
