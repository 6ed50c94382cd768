import { decodeNotification, isCursor, START_CURSOR } from './revocation-log';

describe('revocation log helpers', () => {
  it('isCursor accepts the cursors the log hands out and nothing else', () => {
    expect(isCursor(START_CURSOR)).toBe(true);
    expect(isCursor('18446744073709551615-42')).toBe(true);
    for (const bad of [
      '',
      '12',
      '12-',
      '-3',
      '1-2-3',
      '1.2',
      ' 1-2',
      '1-2 ',
      'a-1',
      '123456789012345678901-1',
    ]) {
      expect(isCursor(bad)).toBe(false);
    }
  });

  it('decodeNotification reads the sessions of a NOTIFY payload and ignores anything malformed', () => {
    const at = Date.UTC(2026, 0, 1);
    expect(decodeNotification(JSON.stringify([['s1', 'u1', at, at + 1_000, at + 2_000]]))).toEqual([
      {
        sessionId: 's1',
        userId: 'u1',
        revokedAt: new Date(at),
        expiresAt: new Date(at + 1_000),
        sessionExpiresAt: new Date(at + 2_000),
      },
    ]);
    for (const bad of [
      undefined,
      '',
      'not json',
      '{}',
      '[["s1","u1",1,2]]',
      '[["s1",2,1,2,3]]',
      '[["s1","u1","x",2,3]]',
    ]) {
      expect(decodeNotification(bad)).toEqual([]);
    }
  });
});
