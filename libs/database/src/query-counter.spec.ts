import { QueryCounter, QueryEvent } from './query-counter';

describe('QueryCounter', () => {
  it('counts every statement and names its table and kind', () => {
    const counter = new QueryCounter();
    const events: QueryEvent[] = [];
    counter.on('query', (e) => events.push(e));
    counter.record(
      'SELECT "public"."users"."id" FROM "public"."users" WHERE "public"."users"."id" = $1 LIMIT $2 OFFSET $3',
      1.5,
    );
    counter.record(
      'UPDATE "public"."sessions" SET "revoked_at" = $1 WHERE ("public"."sessions"."id" = $2)',
      2,
    );
    counter.record('INSERT INTO "public"."profiles" ("user_id") VALUES ($1)', 1);
    counter.record('BEGIN', 0.1);
    expect(counter.total).toBe(4);
    expect(events.map((e) => [e.table, e.kind])).toEqual([
      ['users', 'select'],
      ['sessions', 'update'],
      ['profiles', 'insert'],
      ['other', 'begin'],
    ]);
  });
});
