import { PrismaService, QueryEvent } from '@app/database';

/** Tables touched by timers rather than by requests (the signing-key reload every 10 s). */
const BACKGROUND_TABLES = new Set(['signing_keys']);

/**
 * Counts the statements an instance sends to PostgreSQL from now on, leaving out the periodic
 * background reads, so "zero queries per request" is not at the mercy of a timer.
 */
export function countQueries(instance: { app: { get(token: unknown): unknown } }): {
  readonly count: number;
  stop(): void;
} {
  const queries = (instance.app.get(PrismaService) as PrismaService).queries;
  let count = 0;
  const listener = (event: QueryEvent) => {
    if (!BACKGROUND_TABLES.has(event.table)) count++;
  };
  queries.on('query', listener);
  return {
    get count() {
      return count;
    },
    stop: () => queries.off('query', listener),
  };
}
