/**
 * A query string with every value replaced, keys kept: query strings may carry tokens (email
 * links, OAuth `code` and `state`), and neither a log line nor a span may hold one.
 */
export function redactedQuery(search: string): string {
  const params = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  return [...params.keys()].map((k) => `${encodeURIComponent(k)}=[Redacted]`).join('&');
}
