/**
 * JSON that keeps Dates: cached rows come back with the same types the database gave.
 * `{"$date": <ms>}` marks a Date (JSON.stringify has already turned it into a string by the time
 * a replacer sees the value, so the replacer looks at the holder's raw property).
 */
export function serialize(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const raw = this[key];
    return raw instanceof Date ? { $date: raw.getTime() } : v;
  });
}

export function deserialize<T>(text: string): T {
  // A walk over the parsed value is much cheaper than a JSON.parse reviver (called per key, in C++).
  return reviveDates(JSON.parse(text)) as T;
}

function reviveDates(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveDates(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  if (typeof record.$date === 'number' && Object.keys(record).length === 1) return new Date(record.$date);
  for (const key in record) {
    const field = record[key];
    if (field && typeof field === 'object') record[key] = reviveDates(field);
  }
  return record;
}

/** The stored form of "the row does not exist", so absence can be cached too. */
export const ABSENT = '{"$absent":true}';
