import { randomUUID } from 'node:crypto';

/** A session row as the fakes keep it: the columns the sessions code reads and writes. */
export interface SessionRow {
  id: string;
  userId: string;
  refreshTokenHash: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
  userAgent: string | null;
  ip: string | null;
  amr: string[];
  authTime: Date;
}

/** An active session of a month, started now; `userId` and `refreshTokenHash` say whose and which. */
export function makeSession(overrides: Partial<SessionRow> & Pick<SessionRow, 'userId'>): SessionRow {
  const now = new Date();
  return {
    id: randomUUID(),
    refreshTokenHash: randomUUID(),
    createdAt: now,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + 30 * 86_400_000),
    revokedAt: null,
    revokedReason: null,
    userAgent: null,
    ip: null,
    amr: ['pwd'],
    authTime: now,
    ...overrides,
  };
}
