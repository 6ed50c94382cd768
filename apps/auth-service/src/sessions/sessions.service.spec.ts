import { FakeAccessTokens } from '../../../../test/fakes/access-tokens.fake';
import { FakeSessionRevoker, FakeSessionsRepository } from '../../../../test/fakes/sessions.fake';
import { standIn } from '../../../../test/fakes/stand-in';
import { FakeUsersRepository } from '../../../../test/fakes/users.repository.fake';
import { makeSession } from '../../../../test/factories/session';
import { makeUser } from '../../../../test/factories/user';
import { codeOf } from '../../../../test/support/refusal';
import { loadConfig } from '../config/app-config';
import { hashSecretToken } from '../crypto/secret-tokens';
import { SessionsService, StartOptions } from './sessions.service';

const client = { userAgent: 'jest', ip: '192.0.2.1' };

describe('SessionsService', () => {
  const config = loadConfig({ REFRESH_TOKEN_TTL: '3600' });
  let rows: FakeSessionsRepository;
  let revoker: FakeSessionRevoker;
  let users: FakeUsersRepository;
  let accessTokens: FakeAccessTokens;
  let sessions: SessionsService;

  beforeEach(() => {
    rows = new FakeSessionsRepository();
    revoker = new FakeSessionRevoker(rows);
    users = new FakeUsersRepository();
    accessTokens = new FakeAccessTokens();
    sessions = new SessionsService(
      standIn(rows),
      standIn(revoker),
      standIn(users),
      standIn(accessTokens),
      config,
    );
  });

  describe('start', () => {
    it('stores only the hash of the refresh token, expiring after REFRESH_TOKEN_TTL', async () => {
      const ada = users.add(makeUser({ roles: ['user', 'admin'] }));
      const before = Date.now();
      const tokens = await sessions.start(ada, client);

      const [row, ...others] = rows.rows.values();
      expect(others).toEqual([]);
      expect(row?.refreshTokenHash).toBe(hashSecretToken(tokens.refreshToken));
      expect(row?.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 3600_000);
      expect(row?.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 3600_000);
      expect(row).toEqual(expect.objectContaining({ userId: ada.id, userAgent: 'jest', ip: '192.0.2.1' }));
      // The access token stands for this user, this session and the user's roles.
      expect(accessTokens.issued).toEqual([
        {
          userId: ada.id,
          sessionId: row?.id,
          roles: ['user', 'admin'],
          amr: ['pwd'],
          authTime: Math.floor((row?.authTime.getTime() ?? 0) / 1000),
        },
      ]);
      expect(tokens).toEqual(expect.objectContaining({ tokenType: 'Bearer', expiresIn: 900, user: ada }));
    });

    const cases: [StartOptions, string[], string][] = [
      [{}, ['pwd'], 'password'],
      [{ method: 'registration' }, ['pwd'], 'registration'],
      [{ method: 'oauth' }, ['fed'], 'oauth'],
      [{ method: 'passkey' }, ['hwk', 'mfa'], 'passkey'],
      [{ method: 'mfa', amr: ['fed', 'otp', 'mfa', 'otp'] }, ['fed', 'otp', 'mfa'], 'mfa'],
    ];
    it.each(cases)(
      '%j: stores amr %j on the row, signs it, records it with method %s',
      async (options, amr, method) => {
        const ada = users.add(makeUser());
        const before = Math.floor(Date.now() / 1000);
        await sessions.start(ada, client, options);

        const [row] = rows.rows.values();
        expect(row?.amr).toEqual(amr);
        expect(accessTokens.issued[0]?.amr).toEqual(amr);
        expect(accessTokens.issued[0]?.authTime).toBeGreaterThanOrEqual(before);
        expect(accessTokens.issued[0]?.authTime).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
        expect(rows.startEvents[0]?.details).toEqual({ method, amr });
      },
    );
  });

  describe('refresh', () => {
    it('rotates: a new refresh token each time, and the session stays the same', async () => {
      const ada = users.add(makeUser());
      const first = await sessions.start(ada, client);
      const second = await sessions.refresh(first.refreshToken);
      const third = await sessions.refresh(second.refreshToken);

      expect(new Set([first.refreshToken, second.refreshToken, third.refreshToken]).size).toBe(3);
      expect(rows.rows.size).toBe(1);
      const sessionIds = new Set(accessTokens.issued.map((t) => t.sessionId));
      expect(sessionIds.size).toBe(1);
      // How and when the session was authenticated carries over to every refreshed token.
      expect(new Set(accessTokens.issued.map((t) => JSON.stringify([t.amr, t.authTime]))).size).toBe(1);
      expect([...rows.rows.values()][0]?.refreshTokenHash).toBe(hashSecretToken(third.refreshToken));
      expect(revoker.revocations).toEqual([]);
    });

    it("keeps the session's amr and auth_time across refreshes, however old", async () => {
      const ada = users.add(makeUser());
      const first = await sessions.start(ada, client, { method: 'mfa', amr: ['pwd', 'otp', 'mfa'] });
      const [row] = rows.rows.values();
      if (!row) throw new Error('a session expected');
      row.authTime = new Date('2026-01-02T03:04:05Z');
      await sessions.refresh(first.refreshToken);
      expect(accessTokens.issued[1]).toEqual(
        expect.objectContaining({ sessionId: row.id, amr: ['pwd', 'otp', 'mfa'], authTime: 1767323045 }),
      );
    });

    it('detects reuse: a superseded token revokes its session, and the newest token dies with it', async () => {
      const ada = users.add(makeUser());
      const first = await sessions.start(ada, client);
      const second = await sessions.refresh(first.refreshToken);
      const [session] = rows.rows.values();

      expect(await codeOf(sessions.refresh(first.refreshToken))).toBe('refresh_token_reused');
      expect(revoker.revocations).toEqual([{ reason: 'refresh_token_reused', sessionIds: [session?.id] }]);
      expect(session?.revokedAt).not.toBeNull();
      // Whoever holds the newest token (perhaps the thief) is signed out too.
      expect(await codeOf(sessions.refresh(second.refreshToken))).toBe('invalid_refresh_token');
    });

    it("revokes only the reused session, not the user's others", async () => {
      const ada = users.add(makeUser());
      const phone = await sessions.start(ada, client);
      const laptop = await sessions.start(ada, client);
      await sessions.refresh(phone.refreshToken);

      expect(await codeOf(sessions.refresh(phone.refreshToken))).toBe('refresh_token_reused');
      expect(await sessions.refresh(laptop.refreshToken)).toEqual(expect.objectContaining({ user: ada }));
    });

    it('answers invalid_refresh_token for an unknown token, and revokes nothing', async () => {
      const ada = users.add(makeUser());
      await sessions.start(ada, client);
      expect(await codeOf(sessions.refresh('never-issued'))).toBe('invalid_refresh_token');
      expect(revoker.revocations).toEqual([]);
    });

    it('answers invalid_refresh_token for an expired or revoked session', async () => {
      const ada = users.add(makeUser());
      const expired = await sessions.start(ada, client);
      const revoked = await sessions.start(ada, client);
      const [expiredRow, revokedRow] = rows.rows.values();
      if (!expiredRow || !revokedRow) throw new Error('two sessions expected');
      expiredRow.expiresAt = new Date(Date.now() - 1);
      await sessions.revoke(revokedRow.id, 'logout');

      expect(await codeOf(sessions.refresh(expired.refreshToken))).toBe('invalid_refresh_token');
      expect(await codeOf(sessions.refresh(revoked.refreshToken))).toBe('invalid_refresh_token');
    });

    it('answers account_disabled for a revoked session of a disabled user, and for its rotated tokens', async () => {
      const ada = users.add(makeUser());
      const first = await sessions.start(ada, client);
      const second = await sessions.refresh(first.refreshToken);
      rows.disabledUsers.add(ada.id);
      await sessions.revokeAll(ada.id, 'account_disabled');

      expect(await codeOf(sessions.refresh(second.refreshToken))).toBe('account_disabled');
      expect(await codeOf(sessions.refresh(first.refreshToken))).toBe('account_disabled');
    });

    it('answers invalid_refresh_token when the user is gone', async () => {
      const ghost = makeUser();
      const tokens = await sessions.start(ghost, client);
      expect(await codeOf(sessions.refresh(tokens.refreshToken))).toBe('invalid_refresh_token');
    });
  });

  describe('listing and revoking', () => {
    it("lists the user's active sessions, newest first, marking the current one", async () => {
      const ada = users.add(makeUser());
      const old = rows.add(makeSession({ userId: ada.id, createdAt: new Date('2026-01-01T00:00:00Z') }));
      const current = rows.add(makeSession({ userId: ada.id, createdAt: new Date('2026-02-01T00:00:00Z') }));
      rows.add(makeSession({ userId: ada.id, revokedAt: new Date() }));
      rows.add(makeSession({ userId: makeUser().id }));

      const listed = await sessions.listActive(ada.id, current.id);
      expect(listed.map((s) => [s.id, s.current])).toEqual([
        [current.id, true],
        [old.id, false],
      ]);
    });

    it("answers another user's session exactly like a missing one, and revokes neither", async () => {
      const [ada, bob] = [users.add(makeUser()), users.add(makeUser())];
      const bobs = rows.add(makeSession({ userId: bob.id }));

      expect(await codeOf(sessions.revokeOwn(ada.id, bobs.id))).toBe('session_not_found');
      expect(await codeOf(sessions.revokeOwn(ada.id, 'no-such-session'))).toBe('session_not_found');
      expect(rows.row(bobs.id).revokedAt).toBeNull();
      expect(revoker.revocations).toEqual([]);
    });

    it("revokes one's own session with the reason session_deleted", async () => {
      const ada = users.add(makeUser());
      const own = rows.add(makeSession({ userId: ada.id }));
      await sessions.revokeOwn(ada.id, own.id);
      expect(rows.row(own.id).revokedReason).toBe('session_deleted');
    });

    it("revokes all of a user's sessions but the one kept", async () => {
      const ada = users.add(makeUser());
      const [kept, other, another] = [1, 2, 3].map(() => rows.add(makeSession({ userId: ada.id })));
      const bobs = rows.add(makeSession({ userId: makeUser().id }));
      if (!kept || !other || !another) throw new Error('three sessions expected');

      await sessions.revokeAll(ada.id, 'password_change', kept.id);
      expect(revoker.revocations).toEqual([
        { reason: 'password_change', sessionIds: [other.id, another.id] },
      ]);
      expect([kept, bobs].map((s) => s.revokedAt)).toEqual([null, null]);
    });
  });
});
