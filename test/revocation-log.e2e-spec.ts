import { decodeJwt } from 'jose';
import { Client } from 'pg';
import { RevocationFollower } from '../apps/auth-service/src/sessions/revocation-follower';
import { RevocationEntry, RevocationLog } from '../apps/auth-service/src/sessions/revocation-log';
import { SessionRevoker } from '../apps/auth-service/src/sessions/session-revoker';
import { UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { waitUntil } from './support/wait-until';

jest.setTimeout(60_000);

const sidOf = (token: string) => (decodeJwt(token) as { sid: string }).sid;

/** The revocation log in PostgreSQL: its cursor, its snapshot, and the followers it feeds. */
describe('revocation log', () => {
  let a: Instance;
  let b: Instance;
  let log: RevocationLog;

  beforeAll(async () => {
    a = await startInstance();
    b = await startInstance();
    log = a.app.get(RevocationLog);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('a cursor handed out is never passed by a transaction that commits later', async () => {
    const { cursor: start } = await log.snapshotAlive(new Date());
    // A slow revoking transaction: its row is inserted (its sequence number taken) but not committed.
    const slow = new Client({ connectionString: process.env.E2E_DATABASE_URL });
    await slow.connect();
    let slowSid: string;
    try {
      await slow.query('BEGIN');
      const inserted = await slow.query<{ session_id: string }>(
        `INSERT INTO session_revocations (session_id, user_id, reason, revoked_at, expires_at, session_expires_at)
         VALUES (gen_random_uuid(), gen_random_uuid(), 'logout', now(), now() + interval '15 minutes',
                 now() + interval '1 day')
         RETURNING session_id`,
      );
      slowSid = inserted.rows[0]!.session_id;
      // A faster one takes a later number and commits first.
      const user = await UserFactory.register(a.http);
      const fastSid = sidOf(user.tokens.accessToken);
      expect(
        (await a.http.post('/api/v1/auth/logout', undefined, { token: user.tokens.accessToken })).status,
      ).toBe(204);

      // A reader now: whatever it returns, its cursor must still lead to the slow row later.
      const seen: RevocationEntry[] = [];
      let cursor = start;
      const readOn = async () => {
        for (const entry of await log.readSince(cursor, 1000)) {
          seen.push(entry);
          cursor = entry.cursor;
        }
        return seen.map((e) => e.sessionId);
      };
      expect(await readOn()).not.toContain(fastSid);
      await slow.query('COMMIT');
      const sids = await waitUntil(readOn, {
        what: 'both revocations read through the cursor',
        until: (s) => s.includes(slowSid) && s.includes(fastSid),
      });
      // In commit order of transaction ids: the slow one first, and each exactly once.
      expect(sids.filter((s) => s === slowSid || s === fastSid)).toEqual([slowSid, fastSid]);
    } finally {
      await slow.end();
    }
  });

  it('snapshotAlive: the revocations whose tokens may still be presented, and a cursor that follows on', async () => {
    const user = await UserFactory.register(a.http);
    const sid = sidOf(user.tokens.accessToken);
    await a.app.get(SessionRevoker).revoke({ sessionId: sid }, 'session_deleted');
    const now = new Date();
    const snapshot = await log.snapshotAlive(now);
    const entry = snapshot.entries.find((e) => e.sessionId === sid);
    expect(entry).toMatchObject({ userId: user.tokens.user.id, reason: 'session_deleted' });
    // expiresAt: when the last access token issued before the revocation stops verifying.
    const exp = (decodeJwt(user.tokens.accessToken).exp ?? 0) * 1000;
    expect(entry!.expiresAt.getTime()).toBeGreaterThanOrEqual(exp);
    expect(snapshot.entries.every((e) => e.expiresAt > now)).toBe(true);
    expect((await log.readSince(snapshot.cursor, 1000)).map((e) => e.sessionId)).not.toContain(sid);
  });

  it('every instance hears a revocation made on another within a second, in order, through onRevoked', async () => {
    const heard: string[] = [];
    const stop = b.app
      .get(RevocationFollower)
      .onRevoked((entries) => heard.push(...entries.map((e) => e.sessionId)));
    try {
      const user = await UserFactory.register(a.http);
      const second = await UserFactory.login(a.http, user);
      const started = Date.now();
      expect(
        (await a.http.post('/api/v1/auth/logout-all', undefined, { token: user.tokens.accessToken })).status,
      ).toBe(204);
      await waitUntil(() => heard, {
        what: 'B told of both sessions',
        timeoutMs: 1_000,
        until: (h) => h.includes(sidOf(user.tokens.accessToken)) && h.includes(sidOf(second.accessToken)),
      });
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      stop();
    }
  });
});
