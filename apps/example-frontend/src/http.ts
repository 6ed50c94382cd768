/** The error body every failed call of the service answers (docs/api.md, Conventions). */
export interface ApiError {
  statusCode?: number;
  error?: string;
  /** A list for validation errors (one line per broken rule). */
  message: string | string[];
  code?: string;
}

/** A call's outcome: never thrown, so every page handles failure where it makes the call. */
export type ApiResult<T> =
  { ok: true; status: number; data: T } | { ok: false; status: number; error: ApiError };

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  accessToken?: string;
}

/** One call to the service. A network or CORS failure is status 0. */
export async function callApi<T>(
  apiBase: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResult<T>> {
  const { method = 'POST', body, accessToken } = options;
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (accessToken) headers.authorization = `Bearer ${accessToken}`;
  let status = 0;
  let text: string;
  try {
    // credentials: 'include' sends the HttpOnly refresh cookie with /auth/* calls and lets their
    // answers replace it, also when the API is on another origin (CORS with credentials).
    const response = await fetch(apiBase + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'include',
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    const message = `Network error (blocked by CORS?): ${error instanceof Error ? error.message : String(error)}`;
    return { ok: false, status, error: { message } };
  }
  const data = parseJson(text);
  if (status >= 200 && status < 300) return { ok: true, status, data: data as T };
  return {
    ok: false,
    status,
    error: isApiError(data) ? data : { message: text.slice(0, 200) || `HTTP ${status}` },
  };
}

/** "Login failed (401 invalid_credentials): Invalid email or password" */
export function describeFailure(what: string, result: { status: number; error: ApiError }): string {
  const { code, message } = result.error;
  return `${what} failed (${result.status}${code ? ` ${code}` : ''}): ${([] as string[]).concat(message).join('; ')}`;
}

function parseJson(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function isApiError(value: unknown): value is ApiError {
  return typeof value === 'object' && value !== null && 'message' in value;
}
