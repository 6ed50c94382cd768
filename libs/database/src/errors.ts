const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08006',
  'P1001',
  'P1002',
  'P1017',
]);

const CONNECTION_MESSAGES =
  /connection terminated|timeout exceeded when trying to connect|can't reach database|connection refused|Connection terminated|server closed the connection|query read timeout|Connection timeout/i;

/** True when an error means PostgreSQL could not be reached, as opposed to a query that failed. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 6; depth++) {
    const candidate = e as { code?: unknown; message?: unknown; cause?: unknown; kind?: unknown };
    if (typeof candidate.code === 'string' && CONNECTION_ERROR_CODES.has(candidate.code)) return true;
    if (candidate.kind === 'DatabaseNotReachable' || candidate.kind === 'ConnectionClosed') return true;
    if (typeof candidate.message === 'string' && CONNECTION_MESSAGES.test(candidate.message)) return true;
    e = candidate.cause;
  }
  return false;
}

/** True for a unique-constraint violation (Prisma P2002 or PostgreSQL 23505). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; cause?: { code?: unknown; originalCode?: unknown } };
  return e?.code === 'P2002' || e?.code === '23505' || e?.cause?.originalCode === '23505';
}
