import { isDatabaseUnavailable, isUniqueViolation } from './errors';

describe('database error classification', () => {
  it.each([
    Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
    new Error('wrapped', { cause: Object.assign(new Error('x'), { code: '57P01' }) }),
    Object.assign(new Error('adapter'), { cause: { kind: 'DatabaseNotReachable' } }),
  ])('sees %p as the database being unreachable', (error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    new Error('duplicate key value'),
    Object.assign(new Error('x'), { code: '23505' }),
    undefined,
    'string',
  ])('does not take %p for an outage', (error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  it('recognises unique violations from Prisma and from PostgreSQL', () => {
    expect(isUniqueViolation({ code: 'P2002' })).toBe(true);
    expect(isUniqueViolation({ code: '23505' })).toBe(true);
    expect(isUniqueViolation({ code: 'P2025' })).toBe(false);
  });
});
