import { decodeJwt } from 'jose';
import { SessionRevoker } from '../apps/auth-service/src/sessions/session-revoker';
import { expectError, UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';

/** SessionRevoker, the one writer of revocations, with the reasons no route uses yet. */
describe('revocation: SessionRevoker', () => {
  let a: Instance;
  let revoker: SessionRevoker;

  beforeAll(async () => {
    a = await startInstance();
    revoker = a.app.get(SessionRevoker);
  });
  afterAll(async () => {
    await a?.close();
  });

  const counted = async (reason: string): Promise<number> => {
    const line = (await a.http.get('/metrics')).text
      .split('\n')
      .find((l) => l.startsWith(`auth_session_revocations_total{reason="${reason}"}`));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };
  const me = (token: string) => a.http.get('/api/v1/auth/me', { token });

  it('in a transaction that rolls back: nothing revoked, cached or counted', async () => {
    const user = await UserFactory.register(a.http);
    expect((await me(user.tokens.accessToken)).status).toBe(200);
    const before = await counted('account_disabled');
    await expect(
      revoker.inTransaction(async (tx) => {
        expect(
          await revoker.revoke({ userId: user.tokens.user.id }, 'account_disabled', { tx }),
        ).toHaveLength(1);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect((await me(user.tokens.accessToken)).status).toBe(200);
    expect(await counted('account_disabled')).toBe(before);
  });

  it('in a transaction that commits: the sessions refused at once and counted by reason', async () => {
    const user = await UserFactory.register(a.http);
    const second = await UserFactory.login(a.http, user);
    expect((await me(second.accessToken)).status).toBe(200);
    const before = await counted('role_removed');
    const revoked = await revoker.inTransaction((tx) =>
      revoker.revoke({ userId: user.tokens.user.id }, 'role_removed', { tx }),
    );
    expect(revoked.map((s) => s.userId)).toEqual([user.tokens.user.id, user.tokens.user.id]);
    expectError(await me(second.accessToken), 401, 'invalid_token');
    expectError(await me(user.tokens.accessToken), 401, 'invalid_token');
    expect((await counted('role_removed')) - before).toBe(2);
  });

  it('one session of one user only: another user naming it revokes nothing', async () => {
    const owner = await UserFactory.register(a.http);
    const other = await UserFactory.register(a.http);
    const { sid: sessionId } = decodeJwt(owner.tokens.accessToken) as { sid: string };
    expect(await revoker.revoke({ sessionId, userId: other.tokens.user.id }, 'session_deleted')).toEqual([]);
    expect((await me(owner.tokens.accessToken)).status).toBe(200);
    expect(await revoker.revoke({ sessionId, userId: owner.tokens.user.id }, 'account_deleted')).toHaveLength(
      1,
    );
    expectError(await me(owner.tokens.accessToken), 401, 'invalid_token');
  });
});
