import { RevokedSessions } from './revoked-sessions';

describe('RevokedSessions', () => {
  it('refuses a session until its last token expires, then forgets it', () => {
    const revoked = new RevokedSessions();
    expect(revoked.has('s1', 1_000)).toBe(false);
    revoked.add('s1', 2_000);
    expect(revoked.has('s1', 1_999)).toBe(true);
    expect(revoked.has('s2', 1_999)).toBe(false);
    expect(revoked.has('s1', 2_000)).toBe(false);
    revoked.prune(1_999);
    expect(revoked.size).toBe(1);
    revoked.prune(2_000);
    expect(revoked.size).toBe(0);
  });

  it('keeps the later expiry when told twice', () => {
    const revoked = new RevokedSessions();
    revoked.add('s1', 5_000);
    revoked.add('s1', 3_000);
    expect(revoked.has('s1', 4_000)).toBe(true);
  });
});
