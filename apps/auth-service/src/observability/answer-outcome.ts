/** A bounded label value for an answer: the documented error codes that matter, else a class. */
export function outcome(status: number, code: string | undefined, known: Record<string, string>): string {
  if (status < 300) return 'success';
  if (code && known[code]) return known[code];
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'error';
  return 'rejected';
}

/** The `code` of an error answer's JSON payload, as an onSend hook sees it. */
export function errorCode(payload: unknown): string | undefined {
  if (typeof payload !== 'string' || !payload.includes('"code"')) return undefined;
  try {
    const code = (JSON.parse(payload) as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}
