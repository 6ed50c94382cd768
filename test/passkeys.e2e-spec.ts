import { decodeJwt } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { Client } from 'pg';
import {
  expectError,
  RegisteredUser,
  strongPassword,
  TokenResponse,
  uniqueEmail,
  UserFactory,
} from './support/factories';
import { Instance, startInstance } from './support/instance';
import { waitUntil } from './support/wait-until';
import { SoftAuthenticator } from './support/soft-authenticator';
import { TcpProxy } from './support/tcp-proxy';

// The defaults: FRONTEND_URL unset, so APP_URL (http://auth.e2e.test) gives the RP id and origin.
const RP = { id: 'auth.e2e.test', origin: 'http://auth.e2e.test' };
const ADMIN = { email: uniqueEmail('admin'), password: strongPassword() };

interface CreationOptions {
  challenge: string;
  rp: { id: string; name: string };
  user: { id: string; name: string; displayName: string };
  excludeCredentials: { id: string; type: string }[];
  authenticatorSelection: { residentKey: string; userVerification: string };
  attestation: string;
  timeout: number;
}
interface Passkey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/**
 * Passkeys over HTTP on two instances sharing PostgreSQL and Redis, with a software authenticator
 * (test/support/soft-authenticator.ts): registration, list, delete, discoverable sign-in, and every
 * way a ceremony can be wrong (replayed or foreign challenge, origin, RP id, user verification,
 * signature, counter) answering `invalid_passkey`.
 */
describe('passkeys', () => {
  let a: Instance;
  let b: Instance;
  let db: Client;

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startInstance({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password }),
      startInstance(),
    ]);
    db = new Client({ connectionString: process.env.E2E_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await Promise.all([a?.close(), b?.close()]);
  });

  const options = async (i: Instance, user: RegisteredUser) => {
    const res = await i.http.post<CreationOptions>('/api/v1/auth/passkeys/registration/options', undefined, {
      token: user.tokens.accessToken,
    });
    expect(res.status).toBe(200);
    return res.body;
  };
  const register = (i: Instance, user: RegisteredUser, response: unknown, name?: string) =>
    i.http.post<Passkey>(
      '/api/v1/auth/passkeys/registration',
      { response, ...(name ? { name } : {}) },
      { token: user.tokens.accessToken },
    );
  const list = async (user: RegisteredUser) =>
    (await a.http.get<Passkey[]>('/api/v1/auth/passkeys', { token: user.tokens.accessToken })).body;
  const eventsOf = async (userId: string, type: string) =>
    (
      await db.query<{ details: Record<string, unknown> }>(
        'SELECT details FROM security_events WHERE user_id = $1 AND type = $2 ORDER BY created_at',
        [userId, type],
      )
    ).rows.map((r) => r.details);

  /** A user with one registered passkey. */
  async function withPasskey(): Promise<{
    user: RegisteredUser;
    authenticator: SoftAuthenticator;
    passkey: Passkey;
  }> {
    const user = await UserFactory.register(a.http);
    const authenticator = new SoftAuthenticator(RP);
    const res = await register(a, user, authenticator.register(await options(a, user)), 'Laptop');
    expect(res.status).toBe(201);
    return { user, authenticator, passkey: res.body };
  }

  describe('registration', () => {
    it('offers discoverable, user-verified, no-attestation options for the user and registers the answer', async () => {
      const user = await UserFactory.register(a.http, { name: 'Ada' });
      const opts = await options(a, user);
      expect(opts).toMatchObject({
        rp: { id: RP.id, name: 'Auth Service' },
        user: {
          name: user.email,
          displayName: 'Ada',
          id: Buffer.from(user.tokens.user.id).toString('base64url'),
        },
        excludeCredentials: [],
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        attestation: 'none',
        timeout: 300_000,
      });
      expect(opts.challenge).toMatch(/^[A-Za-z0-9_-]{43,}$/);

      const authenticator = new SoftAuthenticator(RP);
      const res = await register(b, user, authenticator.register(opts), 'Laptop');
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        name: 'Laptop',
        createdAt: expect.any(String),
        lastUsedAt: null,
      });
      expect(await list(user)).toEqual([res.body]);
      expect(await eventsOf(user.tokens.user.id, 'passkey.added')).toEqual([
        { passkeyId: res.body.id, name: 'Laptop' },
      ]);

      // The next options exclude it, so the authenticator will not make a second one.
      expect((await options(a, user)).excludeCredentials).toEqual([
        expect.objectContaining({ id: authenticator.id, type: 'public-key' }),
      ]);
      // …and an authenticator that ignores that is refused, with nothing written.
      expectError(
        await register(a, user, authenticator.register(await options(a, user))),
        400,
        'invalid_passkey',
      );
      expect(await list(user)).toHaveLength(1);
    });

    it('names a passkey "Passkey" when no name is given', async () => {
      const user = await UserFactory.register(a.http);
      const res = await register(a, user, new SoftAuthenticator(RP).register(await options(a, user)));
      expect(res.status).toBe(201);
      expect(res.body.name).toBe('Passkey');
    });

    it('spends a challenge once, on any instance: the same answer again is invalid_passkey', async () => {
      const user = await UserFactory.register(a.http);
      const answer = new SoftAuthenticator(RP).register(await options(a, user));
      expect((await register(a, user, answer)).status).toBe(201);
      expectError(await register(b, user, answer), 400, 'invalid_passkey');
      expect(await list(user)).toHaveLength(1);
    });

    it.each([
      ['a wrong origin', { origin: 'https://evil.example' }],
      ['a wrong RP id', { rpId: 'evil.example' }],
      ['no user verification', { unverified: true }],
      [
        'a challenge the service never gave',
        { challenge: 'bm90LWEtY2hhbGxlbmdlLWdpdmVuLWJ5LXRoZS1zZXJ2aWNl' },
      ],
    ])('refuses %s with 400 invalid_passkey', async (_name, tamper) => {
      const user = await UserFactory.register(a.http);
      const res = await register(a, user, new SoftAuthenticator(RP).register(await options(a, user), tamper));
      expectError(res, 400, 'invalid_passkey');
      expect(await list(user)).toEqual([]);
    });

    it("refuses another user's challenge, and an expired one", async () => {
      const [user, other] = await Promise.all([UserFactory.register(a.http), UserFactory.register(a.http)]);
      expectError(
        await register(a, user, new SoftAuthenticator(RP).register(await options(a, other))),
        400,
        'invalid_passkey',
      );

      const opts = await options(a, user);
      await db.query(
        `UPDATE webauthn_challenges SET expires_at = now() - interval '1 second' WHERE user_id = $1`,
        [user.tokens.user.id],
      );
      expectError(await register(a, user, new SoftAuthenticator(RP).register(opts)), 400, 'invalid_passkey');
    });

    it.each([
      ['an empty object', {}],
      [
        'clientDataJSON that is not base64url JSON',
        { id: 'x', response: { clientDataJSON: '%%%', attestationObject: 'AA' } },
      ],
      ['an attestationObject that is not CBOR', 'garbage-attestation'],
    ])('answers malformed WebAuthn JSON (%s) with 400 invalid_passkey', async (_name, body) => {
      const user = await UserFactory.register(a.http);
      let response: unknown = body;
      if (body === 'garbage-attestation') {
        const answer = new SoftAuthenticator(RP).register(await options(a, user)) as {
          response: Record<string, string>;
        };
        answer.response.attestationObject = 'bm90LWNib3I';
        response = answer;
      }
      expectError(await register(a, user, response), 400, 'invalid_passkey');
    });

    it('answers a body without a response object with 400 validation_failed, and anonymous callers with 401', async () => {
      const user = await UserFactory.register(a.http);
      expectError(await register(a, user, 'not-an-object'), 400, 'validation_failed');
      expectError(await a.http.post('/api/v1/auth/passkeys/registration/options'), 401, 'invalid_token');
      expectError(await a.http.get('/api/v1/auth/passkeys'), 401, 'invalid_token');
    });
  });

  describe('delete', () => {
    it('deletes one of the caller’s passkeys (recorded), and answers 404 for another user’s, an unknown or a malformed id', async () => {
      const { user, passkey } = await withPasskey();
      const other = await UserFactory.register(a.http);
      const del = (who: RegisteredUser, id: string) =>
        b.http.delete(`/api/v1/auth/passkeys/${id}`, { token: who.tokens.accessToken });

      expectError(await del(other, passkey.id), 404, 'passkey_not_found');
      expectError(await del(user, 'not-a-uuid'), 404, 'passkey_not_found');
      expect((await del(user, passkey.id)).status).toBe(204);
      expect(await list(user)).toEqual([]);
      expectError(await del(user, passkey.id), 404, 'passkey_not_found');
      expect(await eventsOf(user.tokens.user.id, 'passkey.removed')).toEqual([{ passkeyId: passkey.id }]);
    });
  });

  describe('sign-in (discoverable credentials)', () => {
    interface RequestOptions {
      challengeId: string;
      options: {
        challenge: string;
        rpId: string;
        allowCredentials: unknown[];
        userVerification: string;
        timeout: number;
      };
    }
    const signInOptions = async (i: Instance) => {
      const res = await i.http.post<RequestOptions>('/api/v1/auth/passkeys/authentication/options');
      expect(res.status).toBe(200);
      return res.body;
    };
    const signIn = (i: Instance, challengeId: string, response: unknown) =>
      i.http.post<TokenResponse>('/api/v1/auth/passkeys/authentication', { challengeId, response });

    it('signs in with options from one instance and the answer on the other: tokens, cookie, lastUsedAt', async () => {
      const { user, authenticator, passkey } = await withPasskey();
      const { challengeId, options: opts } = await signInOptions(a);
      expect(opts).toMatchObject({
        rpId: RP.id,
        allowCredentials: [],
        userVerification: 'required',
        timeout: 300_000,
      });

      const res = await signIn(b, challengeId, authenticator.authenticate(opts));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        tokenType: 'Bearer',
        user: { id: user.tokens.user.id, email: user.email },
      });
      expect(res.headers.get('set-cookie')).toMatch(/^refresh_token=[^;]+;/);
      // Both factors at once (API.md): a hardware-bound key, user-verified.
      const claims = decodeJwt(res.body.accessToken);
      expect(claims.amr).toEqual(['hwk', 'mfa']);
      expect(Math.abs(Number(claims.auth_time) - Date.now() / 1000)).toBeLessThan(60);
      const me = await a.http.get('/api/v1/auth/me', { token: res.body.accessToken });
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(user.tokens.user.id);
      const [listed] = await list(user);
      expect(listed!.id).toBe(passkey.id);
      expect(listed!.lastUsedAt).not.toBeNull();
      expect(await eventsOf(user.tokens.user.id, 'login.succeeded')).toContainEqual(
        expect.objectContaining({ method: 'passkey' }),
      );
    });

    it('spends the challenge once across instances: a replayed answer is 401 invalid_passkey', async () => {
      const { authenticator } = await withPasskey();
      const { challengeId, options: opts } = await signInOptions(a);
      const answer = authenticator.authenticate(opts);
      expect((await signIn(a, challengeId, answer)).status).toBe(200);
      expectError(await signIn(b, challengeId, answer), 401, 'invalid_passkey');
    });

    it.each([
      ['a wrong origin', { origin: 'https://evil.example' }],
      ['a wrong RP id', { rpId: 'evil.example' }],
      ['no user verification', { unverified: true }],
      ['a bad signature', { badSignature: true }],
      [
        'a challenge other than the one named',
        { challenge: 'b3RoZXItY2hhbGxlbmdlLXRoYW4tdGhlLW9uZS1uYW1lZA' },
      ],
    ])(
      'refuses %s with 401 invalid_passkey, recorded as login.failed of the owner',
      async (_name, tamper) => {
        const { user, authenticator } = await withPasskey();
        const { challengeId, options: opts } = await signInOptions(a);
        expectError(
          await signIn(a, challengeId, authenticator.authenticate(opts, tamper)),
          401,
          'invalid_passkey',
        );
        // Failed sign-ins are written in batches (FailedLoginRecorder), within about a second.
        const failures = await waitUntil(() => eventsOf(user.tokens.user.id, 'login.failed'), {
          what: 'the login.failed event of the refused passkey',
          until: (events) => events.length > 0,
        });
        expect(failures).toEqual([{ reason: 'invalid_passkey', method: 'passkey' }]);
      },
    );

    it('refuses a signature counter that goes backwards (or stays), and accepts one that stays 0 on both sides', async () => {
      const { authenticator } = await withPasskey();
      for (let i = 0; i < 2; i++) {
        const { challengeId, options: opts } = await signInOptions(a);
        expect((await signIn(a, challengeId, authenticator.authenticate(opts))).status).toBe(200);
      }
      expect(authenticator.counter).toBe(2);
      for (const counter of [1, 2]) {
        const { challengeId, options: opts } = await signInOptions(b);
        expectError(
          await signIn(b, challengeId, authenticator.authenticate(opts, { counter })),
          401,
          'invalid_passkey',
        );
      }

      // An authenticator that keeps no counter signs 0 every time: allowed while the stored value is 0 too.
      const user = await UserFactory.register(a.http);
      const counterless = new SoftAuthenticator(RP, false);
      expect((await register(a, user, counterless.register(await options(a, user)))).status).toBe(201);
      for (let i = 0; i < 2; i++) {
        const { challengeId, options: opts } = await signInOptions(a);
        expect((await signIn(a, challengeId, counterless.authenticate(opts))).status).toBe(200);
      }
    });

    it('refuses an unknown credential, an unknown or expired challenge id, and malformed WebAuthn JSON', async () => {
      const { authenticator } = await withPasskey();
      const stranger = new SoftAuthenticator(RP);
      stranger.userHandle = authenticator.userHandle;
      let { challengeId, options: opts } = await signInOptions(a);
      expectError(await signIn(a, challengeId, stranger.authenticate(opts)), 401, 'invalid_passkey');

      expectError(
        await signIn(a, '00000000-0000-4000-8000-000000000000', authenticator.authenticate(opts)),
        401,
        'invalid_passkey',
      );

      ({ challengeId, options: opts } = await signInOptions(a));
      await db.query(
        `UPDATE webauthn_challenges SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [challengeId],
      );
      expectError(await signIn(a, challengeId, authenticator.authenticate(opts)), 401, 'invalid_passkey');

      for (const response of [
        {},
        { id: authenticator.id },
        { id: authenticator.id, response: { clientDataJSON: 5 } },
      ]) {
        ({ challengeId } = await signInOptions(a));
        expectError(await signIn(a, challengeId, response), 401, 'invalid_passkey');
      }
      expectError(await signIn(a, 'not-a-uuid', {}), 400, 'validation_failed');
      // Refusals that name no one (an unknown credential or challenge) are recorded without a user.
      await waitUntil(
        async () =>
          (
            await db.query(
              `SELECT 1 FROM security_events WHERE type = 'login.failed' AND user_id IS NULL
                 AND details->>'reason' = 'invalid_passkey'`,
            )
          ).rowCount,
        { what: 'a login.failed event of an unknown passkey', until: (n) => (n ?? 0) > 0 },
      );
    });

    it('signs a user with TOTP in without a challenge: the passkey is both factors', async () => {
      const { user, authenticator } = await withPasskey();
      const token = user.tokens.accessToken;
      const setup = await a.http.post<{ secret: string }>('/api/v1/auth/mfa/totp/setup', undefined, {
        token,
      });
      expect(setup.status).toBe(200);
      const code = new TOTP({ secret: Secret.fromBase32(setup.body.secret) }).generate();
      expect((await a.http.post('/api/v1/auth/mfa/totp/confirm', { code }, { token })).status).toBe(200);
      const login = await a.http.post('/api/v1/auth/login', { email: user.email, password: user.password });
      expect(login.body).toMatchObject({ mfaRequired: true });

      const { challengeId, options: opts } = await signInOptions(b);
      const res = await signIn(b, challengeId, authenticator.authenticate(opts));
      expect(res.status).toBe(200);
      expect(res.body).not.toHaveProperty('mfaRequired');
      expect(decodeJwt(res.body.accessToken).amr).toEqual(['hwk', 'mfa']);
    });

    it('answers 403 account_disabled for a disabled user with a valid passkey', async () => {
      const { user, authenticator } = await withPasskey();
      await db.query('UPDATE users SET disabled_at = now() WHERE id = $1', [user.tokens.user.id]);
      const { challengeId, options: opts } = await signInOptions(a);
      expectError(await signIn(a, challengeId, authenticator.authenticate(opts)), 403, 'account_disabled');
    });
  });

  describe('account data', () => {
    it('exports the passkeys without keys or credential ids, and deleting the account deletes them', async () => {
      const { user, authenticator, passkey } = await withPasskey();
      const res = await b.http.get('/api/v1/users/me/export', { token: user.tokens.accessToken });
      expect(res.status).toBe(200);
      expect(res.body.passkeys).toEqual([
        {
          id: passkey.id,
          name: 'Laptop',
          createdAt: passkey.createdAt,
          lastUsedAt: null,
          deviceType: 'singleDevice',
          backedUp: false,
        },
      ]);
      expect(res.text).not.toContain(authenticator.id);

      const deleted = await a.http.request(
        'DELETE',
        '/api/v1/users/me',
        { password: user.password },
        {
          token: user.tokens.accessToken,
        },
      );
      expect(deleted.status).toBe(204);
      expect((await db.query('SELECT 1 FROM passkeys WHERE id = $1', [passkey.id])).rowCount).toBe(0);
    });
  });

  describe('admin view', () => {
    it('counts the passkeys of a user in mfa.passkeys', async () => {
      const { user } = await withPasskey();
      const admin = await UserFactory.login(a.http, ADMIN);
      const res = await a.http.get(`/api/v1/admin/users/${user.tokens.user.id}`, {
        token: admin.accessToken,
      });
      expect(res.status).toBe(200);
      expect(res.body.mfa.passkeys).toBe(1);
    });
  });
});

/**
 * The challenges live in PostgreSQL: with Redis cut off from both instances, a passkey is still
 * registered and used across them, and a replay is still refused.
 */
describe('passkeys with Redis cut off', () => {
  let proxy: TcpProxy;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    proxy = await TcpProxy.forUrl(process.env.E2E_REDIS_URL!);
    const env = {
      REDIS_URL: proxy.url(process.env.E2E_REDIS_URL!),
      CACHE_KEY_PREFIX: `e2e_${process.env.E2E_RUN_ID}_passkeys_cut`,
    };
    [a, b] = await Promise.all([startInstance(env), startInstance(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await proxy?.close();
  });

  it('registers on one instance, signs in across both, refuses the replay', async () => {
    const user = await UserFactory.register(a.http);
    await proxy.cut();
    const token = user.tokens.accessToken;
    const authenticator = new SoftAuthenticator(RP);
    const creation = await a.http.post('/api/v1/auth/passkeys/registration/options', undefined, { token });
    expect(creation.status).toBe(200);
    const registered = await b.http.post(
      '/api/v1/auth/passkeys/registration',
      { response: authenticator.register(creation.body) },
      { token },
    );
    expect(registered.status).toBe(201);

    const started = await b.http.post('/api/v1/auth/passkeys/authentication/options');
    expect(started.status).toBe(200);
    const answer = {
      challengeId: started.body.challengeId,
      response: authenticator.authenticate(started.body.options),
    };
    expect((await a.http.post('/api/v1/auth/passkeys/authentication', answer)).status).toBe(200);
    expectError(await b.http.post('/api/v1/auth/passkeys/authentication', answer), 401, 'invalid_passkey');
  });
});
