/** How a request's access token is checked. */
export type AuthMode = 'local' | 'strict' | 'push';

/** What `push` routes do once the revocation stream has been down longer than `push.maxStaleMs`. */
export type PushFallback = 'strict' | 'refuse';

/** Asymmetric algorithms the auth service signs with. `none` and HS* can never be allowed. */
export const SUPPORTED_ALGORITHMS = ['EdDSA', 'ES256', 'RS256'] as const;
export type SupportedAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** The minimum a logger must do; Nest's `Logger` and `console` both fit. */
export interface AuthClientLogger {
  warn(message: string): void;
  error(message: string): void;
}

export interface AuthClientOptions {
  /** Base URL of the auth service, e.g. `https://auth.example.com` (no trailing `/api/v1`). */
  authUrl: string;
  /** Expected `iss` claim: the auth service's `JWT_ISSUER` (which defaults to its `APP_URL`). Default: `authUrl`. */
  issuer?: string;
  /** Expected `aud` claim (one of them when a list): the auth service's `JWT_AUDIENCE`. */
  audience: string | string[];
  /** Mode for routes that do not choose one. Default `local`. */
  defaultMode?: AuthMode;
  /** Accepted signature algorithms, a subset of EdDSA, ES256, RS256. Default: all three. */
  algorithms?: SupportedAlgorithm[];
  /** Seconds of clock skew tolerated on `exp`/`iat`. Default 5. */
  clockToleranceSeconds?: number;
  jwks?: {
    /** Default `{authUrl}/.well-known/jwks.json`. */
    url?: string;
    /** Keys older than this are refreshed in the background (requests keep using them). Default 600 000 (10 min). */
    maxAgeMs?: number;
    /**
     * At most one JWKS request per this interval, whatever the traffic (unknown `kid`s, staleness,
     * failures alike). Also the longest a token signed with a freshly rotated key can be refused. Default 5 000.
     */
    minRefetchIntervalMs?: number;
    /** Timeout of one JWKS request. Default 3 000. */
    timeoutMs?: number;
  };
  /** Needed for `strict` mode only. */
  introspection?: {
    clientId: string;
    clientSecret: string;
    /** Default `{authUrl}/api/v1/auth/introspect`. */
    url?: string;
    /**
     * How long an introspection answer is reused for the same token: the longest a revoked token
     * can still pass in `strict` mode. Default 5 000.
     */
    cacheTtlMs?: number;
    /** Bound on cached answers (LRU). Default 10 000. */
    cacheMaxEntries?: number;
    /** Timeout of one introspection request; past it the request fails closed (503). Default 2 000. */
    timeoutMs?: number;
  };
  /**
   * `push` mode: the auth service's revocation stream (GET /auth/revocations) feeds a set of
   * revoked sessions, so tokens are verified locally and revoked ones refused within a second.
   * Uses the `introspection` credentials. Enabled by this option or by `defaultMode: 'push'`.
   */
  push?: {
    /** Default `{authUrl}/api/v1/auth/revocations`. */
    url?: string;
    /**
     * How long the stream may have been down and push routes still trust the revocations they
     * have: the longest a revocation made during an outage can go unseen. Default 5 000.
     */
    maxStaleMs?: number;
    /**
     * Past `maxStaleMs` (and before the stream's first snapshot): `strict` checks each token by
     * introspection, `refuse` answers 503 `auth_unavailable`. Default `strict`.
     */
    whenDown?: PushFallback;
    /** Reconnect backoff: doubling from `initialDelayMs` (500) to `maxDelayMs` (30 000), jittered. */
    reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
    /** Nothing received for this long (the server comments every 15 s): reconnect. Default 45 000. */
    idleTimeoutMs?: number;
  };
  /** Default: warnings and errors on `console`. */
  logger?: AuthClientLogger;
  /** Replaces the global `fetch` (proxies, tests). */
  fetch?: typeof fetch;
  /** Monotonic clock in ms for the caches (tests). Default `performance.now()`. */
  clock?: () => number;
}

export interface ResolvedOptions {
  issuer: string;
  audience: string | string[];
  defaultMode: AuthMode;
  algorithms: SupportedAlgorithm[];
  clockToleranceSeconds: number;
  jwks: { url: string; maxAgeMs: number; minRefetchIntervalMs: number; timeoutMs: number };
  introspection?: {
    url: string;
    clientId: string;
    clientSecret: string;
    cacheTtlMs: number;
    cacheMaxEntries: number;
    timeoutMs: number;
  };
  push?: {
    url: string;
    maxStaleMs: number;
    whenDown: PushFallback;
    reconnect: { initialDelayMs: number; maxDelayMs: number };
    idleTimeoutMs: number;
  };
  logger: AuthClientLogger;
  fetch: typeof fetch;
  clock: () => number;
}

export class AuthClientConfigError extends Error {
  override readonly name = 'AuthClientConfigError';
}

/** Fills the defaults and refuses a configuration that cannot work, naming every problem at once. */
export function resolveOptions(options: AuthClientOptions): ResolvedOptions {
  const problems: string[] = [];
  const base = httpUrl(options.authUrl, 'authUrl', problems)?.replace(/\/+$/, '') ?? '';
  const audience = options.audience;
  if (
    !(typeof audience === 'string' && audience.length > 0) &&
    !(Array.isArray(audience) && audience.length > 0 && audience.every((a) => typeof a === 'string' && a))
  ) {
    problems.push('audience must be a non-empty string or list of strings');
  }
  const defaultMode = options.defaultMode ?? 'local';
  if (!['local', 'strict', 'push'].includes(defaultMode))
    problems.push('defaultMode must be local, strict or push');
  const algorithms = options.algorithms ?? [...SUPPORTED_ALGORITHMS];
  const badAlgs = algorithms.filter((a) => !(SUPPORTED_ALGORITHMS as readonly string[]).includes(a));
  if (algorithms.length === 0 || badAlgs.length > 0) {
    problems.push(`algorithms must be a non-empty subset of ${SUPPORTED_ALGORITHMS.join(', ')}`);
  }
  const duration = (value: number | undefined, fallback: number, name: string, min = 0): number => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v < min) problems.push(`${name} must be a number >= ${min}`);
    return v;
  };
  const jwks = {
    url: options.jwks?.url
      ? (httpUrl(options.jwks.url, 'jwks.url', problems) ?? '')
      : `${base}/.well-known/jwks.json`,
    maxAgeMs: duration(options.jwks?.maxAgeMs, 600_000, 'jwks.maxAgeMs', 1_000),
    minRefetchIntervalMs: duration(
      options.jwks?.minRefetchIntervalMs,
      5_000,
      'jwks.minRefetchIntervalMs',
      100,
    ),
    timeoutMs: duration(options.jwks?.timeoutMs, 3_000, 'jwks.timeoutMs', 1),
  };
  let introspection: ResolvedOptions['introspection'];
  const i = options.introspection;
  if (i) {
    if (!i.clientId || !i.clientSecret) problems.push('introspection needs clientId and clientSecret');
    introspection = {
      url: i.url ? (httpUrl(i.url, 'introspection.url', problems) ?? '') : `${base}/api/v1/auth/introspect`,
      clientId: i.clientId,
      clientSecret: i.clientSecret,
      cacheTtlMs: duration(i.cacheTtlMs, 5_000, 'introspection.cacheTtlMs'),
      cacheMaxEntries: duration(i.cacheMaxEntries, 10_000, 'introspection.cacheMaxEntries', 1),
      timeoutMs: duration(i.timeoutMs, 2_000, 'introspection.timeoutMs', 1),
    };
  } else if (defaultMode === 'strict') {
    problems.push('defaultMode strict needs introspection credentials');
  }
  let push: ResolvedOptions['push'];
  const p = options.push;
  if (p || defaultMode === 'push') {
    if (!i)
      problems.push(
        'push mode needs introspection credentials (the stream authenticates as an introspection client)',
      );
    const whenDown = p?.whenDown ?? 'strict';
    if (whenDown !== 'strict' && whenDown !== 'refuse')
      problems.push('push.whenDown must be strict or refuse');
    push = {
      url: p?.url ? (httpUrl(p.url, 'push.url', problems) ?? '') : `${base}/api/v1/auth/revocations`,
      maxStaleMs: duration(p?.maxStaleMs, 5_000, 'push.maxStaleMs'),
      whenDown,
      reconnect: {
        initialDelayMs: duration(p?.reconnect?.initialDelayMs, 500, 'push.reconnect.initialDelayMs', 1),
        maxDelayMs: duration(p?.reconnect?.maxDelayMs, 30_000, 'push.reconnect.maxDelayMs', 1),
      },
      idleTimeoutMs: duration(p?.idleTimeoutMs, 45_000, 'push.idleTimeoutMs', 16_000),
    };
  }
  const clockToleranceSeconds = duration(options.clockToleranceSeconds, 5, 'clockToleranceSeconds');
  if (problems.length > 0) {
    throw new AuthClientConfigError(`Invalid auth-client options: ${problems.join('; ')}`);
  }
  return {
    issuer: options.issuer ?? base,
    audience: audience,
    defaultMode,
    algorithms,
    clockToleranceSeconds,
    jwks,
    introspection,
    push,
    logger: options.logger ?? {
      warn: (m) => console.warn(`[auth-client] ${m}`),
      error: (m) => console.error(`[auth-client] ${m}`),
    },
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    clock: options.clock ?? (() => performance.now()),
  };
}

function httpUrl(value: string | undefined, name: string, problems: string[]): string | undefined {
  try {
    const url = new URL(value ?? '');
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.toString().replace(/\/$/, '');
  } catch {
    // reported below
  }
  problems.push(`${name} must be an http(s) URL`);
  return undefined;
}
