/**
 * The query parameters a cached route's answer depends on, each with the values worth caching.
 * Every other parameter is left out of the key: `?r=<random>` must not mint a new entry per request
 * (one Redis key each, for the route's whole TTL, evicting rate-limit counters under allkeys-lru).
 * A list bounds what anyone can add to Redis through the route (the product of the lists' sizes);
 * `'any'` is allowed on per-caller routes only, whose callers are authenticated and whose entries
 * carry their tags.
 */
export type ResponseQuery = Readonly<Record<string, readonly string[] | 'any'>>;

/** Throws at decoration time if a public route could be made to key on an unbounded value. */
export function assertBoundedQuery(query: ResponseQuery | undefined, perCaller: boolean): void {
  if (perCaller || !query) return;
  for (const [name, values] of Object.entries(query)) {
    if (values === 'any') {
      throw new Error(`@CacheResponse: query parameter "${name}" takes 'any' value on a public route`);
    }
  }
}

/**
 * The key part of a request's query: the route's parameters in a fixed order, with their values.
 * Undefined (answer without caching) when a value is not one the route caches: outside its list,
 * repeated (`?a=1&a=2`) or nested.
 */
export function queryKeyPart(query: ResponseQuery | undefined, requestQuery: unknown): string | undefined {
  const names = Object.keys(query ?? {}).sort();
  if (names.length === 0) return '';
  const given = (requestQuery ?? {}) as Record<string, unknown>;
  const pairs: [string, string | null][] = [];
  for (const name of names) {
    const value = Object.hasOwn(given, name) ? given[name] : undefined;
    if (value === undefined) {
      pairs.push([name, null]);
      continue;
    }
    const allowed = query?.[name];
    if (typeof value !== 'string' || (allowed !== 'any' && !allowed?.includes(value))) return undefined;
    pairs.push([name, value]);
  }
  return JSON.stringify(pairs);
}
