/** `value`, which the test's own setup guarantees (a started node, a list element); throws naming it otherwise. */
export function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`expected ${what}`);
  return value;
}

/** The one row a query returns (a count, an aggregate, a lookup by key); fails the test otherwise. */
export function onlyRow<T>(rows: T[]): T {
  const [row, ...more] = rows;
  if (row === undefined || more.length > 0) throw new Error(`expected exactly one row, got ${rows.length}`);
  return row;
}
