import { PrismaService } from '@app/database';
import { AdminUsersService } from '../apps/auth-service/src/admin-users/admin-users.service';
import { decodeJwt } from 'jose';
import { Secret, TOTP, URI } from 'otpauth';
import { expectError, RegisteredUser, TokenResponse, UserFactory } from './support/factories';
import { HttpResponse } from './support/http';
import { INTROSPECTION_CLIENT, Instance, startInstance } from './support/instance';

/**
 * Second factors over HTTP (API.md "Second factors"): TOTP with codes computed here (otpauth), the
 * login challenge on two instances, replays, the 5-wrong-codes rule, the lockout, recovery codes.
 * A code is accepted once per 30 s step and only above the last used step, so each test uses its
 * own user and at most the previous, current and next step's codes (±1 step is accepted).
 */
const STEP_MS = 30_000;

interface Challenge {
  mfaRequired: true;
  mfaToken: string;
  methods: string[];
  expiresIn: number;
}

/** The code of `secret` for the step `offset` steps from now (fixed at call time). */
function codeAt(secret: string, offset: number, now = Date.now()): string {
  return TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: now + offset * STEP_MS });
}

/**
 * Waits out the end of the current 30 s step when less than 4 s of it are left, so that codes of
 * steps -1, 0 and +1 computed now are still within ±1 step when the server checks them.
 */
async function freshStep(): Promise<number> {
  const left = STEP_MS - (Date.now() % STEP_MS);
  if (left < 4_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
  return Date.now();
}

describe('second factors: TOTP, recovery codes, the login challenge', () => {
  let a: Instance;
  let b: Instance;
  let prisma: PrismaService;

  beforeAll(async () => {
    [a, b] = await Promise.all([startInstance({ TOTP_ISSUER: 'E2E Auth' }), startInstance()]);
    prisma = a.app.get(PrismaService);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  const mfa = (i: Instance, method: string, path: string, token: string, body?: unknown) =>
    i.http.request(method, `/api/v1/auth/mfa${path}`, body, { token });
  const login = (i: Instance, user: RegisteredUser) =>
    i.http.post<Challenge & TokenResponse>('/api/v1/auth/login', {
      email: user.email,
      password: user.password,
    });
  const verify = (i: Instance, body: Record<string, string>) => i.http.post('/api/v1/auth/mfa/verify', body);
  const sessionsOf = async (userId: string) => prisma.session.count({ where: { userId } });
  const eventsOf = async (userId: string, type: string) =>
    prisma.securityEvent.findMany({ where: { userId, type }, orderBy: { createdAt: 'asc' } });

  /** A user with TOTP confirmed (with the code of the previous step): its secret and recovery codes. */
  async function userWithTotp(
    now: number,
  ): Promise<{ user: RegisteredUser; secret: string; recoveryCodes: string[] }> {
    const user = await UserFactory.register(a.http);
    const setup = await mfa(a, 'POST', '/totp/setup', user.tokens.accessToken);
    expect(setup.status).toBe(200);
    const secret = setup.body.secret as string;
    const confirmed = await mfa(a, 'POST', '/totp/confirm', user.tokens.accessToken, {
      code: codeAt(secret, -1, now),
    });
    expect(confirmed.status).toBe(200);
    return { user, secret, recoveryCodes: confirmed.body.recoveryCodes as string[] };
  }

  it('DELETE /users/me of an account without a password asks for a code of its second factor (TOTP or recovery)', async () => {
    const now = await freshStep();
    const remove = (token: string, body?: unknown) =>
      b.http.request('DELETE', '/api/v1/users/me', body, { token });
    for (const proof of ['totp', 'recovery'] as const) {
      const { user, secret, recoveryCodes } = await userWithTotp(now);
      const id = user.tokens.user.id;
      await prisma.user.update({ where: { id }, data: { passwordHash: null } });
      const token = user.tokens.accessToken;
      expectError(await remove(token), 401, 'invalid_credentials');
      const valid = new Set([-1, 0, 1].map((offset) => codeAt(secret, offset, now)));
      const wrong = ['123456', '654321', '000000'].find((c) => !valid.has(c))!;
      expectError(await remove(token, { code: wrong }), 401, 'invalid_credentials');
      // The confirm spent step -1: step 0 is the next code the server accepts.
      const code = proof === 'totp' ? codeAt(secret, 0, now) : recoveryCodes[0]!;
      expect((await remove(token, { code })).status).toBe(204);
      expect(await prisma.user.count({ where: { id } })).toBe(0);
    }
  });

  /** A password login that must answer the challenge: nothing else, no cookie, no session. */
  async function challenge(i: Instance, user: RegisteredUser): Promise<string> {
    const sessionsBefore = await sessionsOf(user.tokens.user.id);
    const res = await login(i, user);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      mfaRequired: true,
      mfaToken: expect.stringMatching(/^[A-Za-z0-9_-]{43,}$/),
      methods: ['totp', 'recovery_code'],
      expiresIn: 300,
    });
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await sessionsOf(user.tokens.user.id)).toBe(sessionsBefore);
    return res.body.mfaToken;
  }

  function expectSignedIn(res: HttpResponse<TokenResponse>, amr: string[]): void {
    expect(res.status).toBe(200);
    expect(res.body).toEqual(
      expect.objectContaining({ tokenType: 'Bearer', refreshToken: expect.any(String) }),
    );
    expect(res.headers.getSetCookie().some((c) => c.startsWith('refresh_token='))).toBe(true);
    expect(decodeJwt(res.body.accessToken).amr).toEqual(amr);
  }

  it('the whole TOTP life cycle: setup, confirm, challenge, verify on another instance, status, events', async () => {
    const user = await UserFactory.register(a.http);
    const token = user.tokens.accessToken;
    expect((await mfa(a, 'GET', '', token)).body).toEqual({ totp: false, recoveryCodesLeft: 0, passkeys: 0 });
    expectError(await mfa(a, 'POST', '/totp/confirm', token, { code: '123456' }), 404, 'mfa_setup_not_found');

    const first = await mfa(a, 'POST', '/totp/setup', token);
    const setup = await mfa(a, 'POST', '/totp/setup', token);
    expect(setup.status).toBe(200);
    const secret = setup.body.secret as string;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const url = URI.parse(setup.body.otpauthUrl as string) as TOTP;
    expect(url).toMatchObject({
      issuer: 'E2E Auth',
      label: user.email,
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });
    expect(url.secret.base32).toBe(secret);
    // Encrypted at rest (AES-256-GCM): neither pending secret is stored in clear.
    const row = await prisma.totpFactor.findUniqueOrThrow({ where: { userId: user.tokens.user.id } });
    expect(row.pendingSecretEnc).toMatch(/^v1\./);
    expect(JSON.stringify({ ...row, lastUsedStep: String(row.lastUsedStep) })).not.toContain(secret);
    // Pending is not required at login.
    expect((await login(a, user)).body.accessToken).toEqual(expect.any(String));

    const now = await freshStep();
    // The replaced pending secret's code no longer confirms; a wrong code neither.
    expectError(
      await mfa(a, 'POST', '/totp/confirm', token, { code: codeAt(first.body.secret as string, 0, now) }),
      400,
      'invalid_mfa_code',
    );
    expectError(await mfa(a, 'POST', '/totp/confirm', token, { code: 'abcdef' }), 400, 'invalid_mfa_code');
    const confirmed = await mfa(a, 'POST', '/totp/confirm', token, { code: codeAt(secret, -1, now) });
    expect(confirmed.status).toBe(200);
    const codes = confirmed.body.recoveryCodes as string[];
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    const stored = await prisma.recoveryCode.findMany({ where: { userId: user.tokens.user.id } });
    expect(stored).toHaveLength(10);
    for (const code of codes) expect(JSON.stringify(stored)).not.toContain(code);

    expectError(await mfa(a, 'POST', '/totp/setup', token), 409, 'mfa_already_enabled');
    expectError(
      await mfa(a, 'POST', '/totp/confirm', token, { code: codeAt(secret, 0, now) }),
      409,
      'mfa_already_enabled',
    );
    expect((await mfa(b, 'GET', '', token)).body).toEqual({ totp: true, recoveryCodesLeft: 10, passkeys: 0 });

    // Login on A answers the challenge; B completes it (the challenge is shared).
    const mfaToken = await challenge(a, user);
    const signedIn = await verify(b, { mfaToken, code: codeAt(secret, 0, now) });
    expectSignedIn(signedIn, ['pwd', 'otp', 'mfa']);
    const claims = decodeJwt(signedIn.body.accessToken);
    const introspected = await a.http.post(
      '/api/v1/auth/introspect',
      { token: signedIn.body.accessToken },
      {
        headers: {
          authorization: `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:${INTROSPECTION_CLIENT.secret}`).toString('base64')}`,
        },
      },
    );
    expect(introspected.body).toEqual(
      expect.objectContaining({ active: true, amr: ['pwd', 'otp', 'mfa'], auth_time: claims.auth_time }),
    );
    // The token is single use.
    expectError(await verify(a, { mfaToken, code: codeAt(secret, 1, now) }), 401, 'invalid_mfa_token');

    // The same code again, on a new challenge: a replay.
    const again = await challenge(b, user);
    expectError(await verify(a, { mfaToken: again, code: codeAt(secret, 0, now) }), 401, 'invalid_mfa_code');
    // A recovery code completes it; spent, it does not work twice.
    expectSignedIn(await verify(a, { mfaToken: again, recoveryCode: codes[0]!.toUpperCase() }), [
      'pwd',
      'otp',
      'mfa',
    ]);
    const third = await challenge(a, user);
    expectError(await verify(b, { mfaToken: third, recoveryCode: codes[0]! }), 401, 'invalid_mfa_code');
    expect((await mfa(a, 'GET', '', token)).body).toEqual({ totp: true, recoveryCodesLeft: 9, passkeys: 0 });

    const userId = user.tokens.user.id;
    expect(await eventsOf(userId, 'mfa.enabled')).toHaveLength(1);
    const succeeded = await eventsOf(userId, 'login.succeeded');
    expect(succeeded.slice(-2).map((e) => e.details)).toEqual([
      { method: 'mfa', amr: ['pwd', 'otp', 'mfa'], factor: 'totp' },
      { method: 'mfa', amr: ['pwd', 'otp', 'mfa'], factor: 'recovery_code' },
    ]);
    expect((await eventsOf(userId, 'mfa.challenge_failed')).map((e) => e.details)).toEqual([
      { method: 'totp', failures: 1 },
      { method: 'recovery_code', failures: 1 },
    ]);
    // Nothing secret in the events.
    const all = JSON.stringify(await prisma.securityEvent.findMany({ where: { userId } }));
    for (const secretValue of [secret, ...codes, mfaToken]) expect(all).not.toContain(secretValue);
  });

  it('a code sent to two instances at once is accepted by exactly one (replay refused across instances)', async () => {
    const now = await freshStep();
    const { user, secret } = await userWithTotp(now);
    const [first, second] = await Promise.all([challenge(a, user), challenge(b, user)]);
    const code = codeAt(secret, 0, now);
    const answers = await Promise.all([
      verify(a, { mfaToken: first, code }),
      verify(b, { mfaToken: second, code }),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401]);
    expect(answers.find((r) => r.status === 401)?.body.code).toBe('invalid_mfa_code');
  });

  it('an mfaToken dies at its 5th wrong code, even with the right one after; 5 challenge_failed events', async () => {
    const now = await freshStep();
    const { user, secret } = await userWithTotp(now);
    const mfaToken = await challenge(a, user);
    const right = codeAt(secret, 0, now);
    const wrong = right === '000000' ? '000001' : '000000';
    for (let i = 1; i <= 5; i++) {
      expectError(await verify(i % 2 ? a : b, { mfaToken, code: wrong }), 401, 'invalid_mfa_code');
    }
    expectError(await verify(a, { mfaToken, code: right }), 401, 'invalid_mfa_token');
    expect(await prisma.mfaChallenge.count({ where: { userId: user.tokens.user.id } })).toBe(0);
    expect(await eventsOf(user.tokens.user.id, 'mfa.challenge_failed')).toHaveLength(5);
    // A new challenge still works with that (unused) code.
    expectSignedIn(await verify(b, { mfaToken: await challenge(b, user), code: right }), [
      'pwd',
      'otp',
      'mfa',
    ]);
  });

  it('five wrong codes sent at once are five guesses, no more (attempts on one token are serialised)', async () => {
    const now = await freshStep();
    const { user, secret } = await userWithTotp(now);
    const mfaToken = await challenge(a, user);
    const right = codeAt(secret, 0, now);
    const wrongCodes = Array.from({ length: 8 }, (_, i) =>
      String((Number(right) + 1 + i) % 1_000_000).padStart(6, '0'),
    );
    const answers = await Promise.all(wrongCodes.map((code, i) => verify(i % 2 ? a : b, { mfaToken, code })));
    const codes = answers.map((r) => r.body.code as string);
    expect(codes.filter((c) => c === 'invalid_mfa_code')).toHaveLength(5);
    expect(codes.filter((c) => c === 'invalid_mfa_token')).toHaveLength(3);
  });

  it('refuses an unknown, expired or malformed mfaToken, and both code and recoveryCode at once', async () => {
    const now = await freshStep();
    const { user, secret } = await userWithTotp(now);
    expectError(await verify(a, { mfaToken: 'not-a-token', code: '123456' }), 401, 'invalid_mfa_token');
    const mfaToken = await challenge(a, user);
    expectError(await verify(a, { mfaToken, code: '1', recoveryCode: 'x' }), 400, 'validation_failed');
    expectError(await verify(a, { mfaToken }), 400, 'validation_failed');
    await prisma.mfaChallenge.updateMany({
      where: { userId: user.tokens.user.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expectError(await verify(a, { mfaToken, code: codeAt(secret, 0, now) }), 401, 'invalid_mfa_token');
  });

  it('a disabled account gets 403 account_disabled at verify', async () => {
    const now = await freshStep();
    const { user, secret } = await userWithTotp(now);
    const mfaToken = await challenge(a, user);
    await prisma.user.update({ where: { id: user.tokens.user.id }, data: { disabledAt: new Date() } });
    expectError(await verify(b, { mfaToken, code: codeAt(secret, 0, now) }), 403, 'account_disabled');
  });

  it('regenerate voids the old recovery codes; disable with a recovery code removes everything', async () => {
    const now = await freshStep();
    const { user, secret, recoveryCodes: old } = await userWithTotp(now);
    const token = user.tokens.accessToken;
    expectError(await mfa(a, 'POST', '/recovery-codes', token, { code: old[0]! }), 400, 'invalid_mfa_code');
    const regenerated = await mfa(b, 'POST', '/recovery-codes', token, { code: codeAt(secret, 0, now) });
    expect(regenerated.status).toBe(200);
    const fresh = regenerated.body.recoveryCodes as string[];
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((c) => old.includes(c))).toEqual([]);
    expect(await eventsOf(user.tokens.user.id, 'mfa.recovery_codes_regenerated')).toHaveLength(1);

    const mfaToken = await challenge(a, user);
    expectError(await verify(a, { mfaToken, recoveryCode: old[1]! }), 401, 'invalid_mfa_code');
    expectSignedIn(await verify(a, { mfaToken, recoveryCode: fresh[1]! }), ['pwd', 'otp', 'mfa']);

    expectError(await mfa(a, 'DELETE', '/totp', token, { code: old[2]! }), 400, 'invalid_mfa_code');
    expect((await mfa(a, 'DELETE', '/totp', token, { code: fresh[2]! })).status).toBe(204);
    expect((await mfa(b, 'GET', '', token)).body).toEqual({ totp: false, recoveryCodesLeft: 0, passkeys: 0 });
    expect(await eventsOf(user.tokens.user.id, 'mfa.disabled')).toHaveLength(1);
    expectError(
      await mfa(a, 'DELETE', '/totp', token, { code: codeAt(secret, 1, now) }),
      404,
      'mfa_not_enabled',
    );
    expectError(
      await mfa(a, 'POST', '/recovery-codes', token, { code: codeAt(secret, 1, now) }),
      404,
      'mfa_not_enabled',
    );
    // Without TOTP a password login yields tokens again.
    expect((await login(b, user)).body.accessToken).toEqual(expect.any(String));
  });

  it('disables with a TOTP code too; a replayed code does not', async () => {
    const now = await freshStep();
    const { user, secret } = await userWithTotp(now);
    const token = user.tokens.accessToken;
    // The confirming code (step -1) was used: it cannot disable.
    expectError(
      await mfa(a, 'DELETE', '/totp', token, { code: codeAt(secret, -1, now) }),
      400,
      'invalid_mfa_code',
    );
    expect((await mfa(b, 'DELETE', '/totp', token, { code: codeAt(secret, 0, now) })).status).toBe(204);
    expect(await prisma.totpFactor.count({ where: { userId: user.tokens.user.id } })).toBe(0);
  });

  it('answers 401 without a bearer token, and 400 for a body without a code', async () => {
    const user = await UserFactory.register(a.http);
    expectError(await a.http.get('/api/v1/auth/mfa'), 401, 'invalid_token');
    expectError(await a.http.post('/api/v1/auth/mfa/totp/setup'), 401, 'invalid_token');
    expectError(await mfa(a, 'POST', '/totp/confirm', user.tokens.accessToken, {}), 400, 'validation_failed');
    expectError(
      await mfa(a, 'DELETE', '/totp', user.tokens.accessToken, { code: 5 }),
      400,
      'validation_failed',
    );
  });

  it('shows mfa.totp to admins (AdminUser)', async () => {
    const now = await freshStep();
    const { user } = await userWithTotp(now);
    const view = await a.app.get(AdminUsersService).get(user.tokens.user.id);
    expect(view.mfa).toEqual({ totp: true, passkeys: 0 }); // passkeys: test/passkeys.e2e-spec.ts
  });
});

describe('second factors with rate limits on: wrong codes count toward the login lockout; verify is limited per IP', () => {
  let c: Instance;
  let d: Instance;

  beforeAll(async () => {
    const limits = {
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_LOGIN_FAILURES: '3',
      RATE_LIMIT_LOGIN_IP: '1000/60',
    };
    const run = process.env.E2E_RUN_ID;
    [c, d] = await Promise.all([
      startInstance({
        ...limits,
        RATE_LIMIT_MFA_VERIFY_IP: '1000/60',
        CACHE_KEY_PREFIX: `e2e_${run}_mfa_lock`,
      }),
      startInstance({ ...limits, RATE_LIMIT_MFA_VERIFY_IP: '3/60', CACHE_KEY_PREFIX: `e2e_${run}_mfa_ip` }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([c?.close(), d?.close()]);
  });

  async function enable(i: Instance, now: number): Promise<{ user: RegisteredUser; secret: string }> {
    const user = await UserFactory.register(i.http);
    const setup = await i.http.post('/api/v1/auth/mfa/totp/setup', undefined, {
      token: user.tokens.accessToken,
    });
    const secret = setup.body.secret as string;
    const confirmed = await i.http.post(
      '/api/v1/auth/mfa/totp/confirm',
      { code: codeAt(secret, -1, now) },
      { token: user.tokens.accessToken },
    );
    expect(confirmed.status).toBe(200);
    return { user, secret };
  }
  const mfaToken = async (i: Instance, user: RegisteredUser) =>
    (await i.http.post('/api/v1/auth/login', { email: user.email, password: user.password })).body
      .mfaToken as string;

  it('wrong codes lock the (account, IP) out like wrong passwords; the right password alone does not reset them', async () => {
    const now = await freshStep();
    const { user, secret } = await enable(c, now);
    const wrong = codeAt(secret, 0, now) === '000000' ? '000001' : '000000';
    let token = await mfaToken(c, user);
    for (let i = 0; i < 2; i++)
      expectError(
        await c.http.post('/api/v1/auth/mfa/verify', { mfaToken: token, code: wrong }),
        401,
        'invalid_mfa_code',
      );
    // A new challenge (the password was right) keeps the streak: the third wrong code locks out.
    token = await mfaToken(c, user);
    expectError(
      await c.http.post('/api/v1/auth/mfa/verify', { mfaToken: token, code: wrong }),
      401,
      'invalid_mfa_code',
    );
    const locked = await c.http.post('/api/v1/auth/login', { email: user.email, password: user.password });
    expectError(locked, 429, 'too_many_requests');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expectError(
      await c.http.post('/api/v1/auth/mfa/verify', { mfaToken: token, code: codeAt(secret, 0, now) }),
      429,
      'too_many_requests',
    );
  });

  it('counts wrong codes on the account routes per user (a stolen access token cannot guess)', async () => {
    const now = await freshStep();
    const { user, secret } = await enable(c, now);
    const wrong = codeAt(secret, 0, now) === '000000' ? '000001' : '000000';
    const del = (code: string) =>
      c.http.request('DELETE', '/api/v1/auth/mfa/totp', { code }, { token: user.tokens.accessToken });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await del(wrong)).status);
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
    // Over the limit: refused even with the right code.
    expectError(await del(codeAt(secret, 0, now)), 429, 'too_many_requests');
  });

  it('limits POST /auth/mfa/verify per IP (RATE_LIMIT_MFA_VERIFY_IP)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push(
        (await d.http.post('/api/v1/auth/mfa/verify', { mfaToken: `nope-${i}`, code: '123456' })).status,
      );
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});
