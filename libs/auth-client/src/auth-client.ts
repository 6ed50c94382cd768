import { createHash } from 'node:crypto';
import { decodeProtectedHeader, errors, JWTPayload, jwtVerify } from 'jose';
import { AuthError, authUnavailable, forbidden, invalidToken } from './errors';
import { IntrospectionCache } from './introspection-cache';
import { JwksKeyStore, KeysUnavailableError } from './jwks-key-store';
import { AuthClientOptions, AuthMode, ResolvedOptions, resolveOptions, SupportedAlgorithm } from './options';
import { RevocationStreamClient } from './revocation-stream-client';
import { hasRoles, RoleRequirement } from './roles';

/** The claims of a verified access token. */
export interface AccessTokenClaims {
  iss: string;
  aud: string | string[];
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  jti: string;
  roles: string[];
}

/** Who is calling: what the guard puts on `request.user`. */
export interface Principal {
  /** `sub`: the user id. */
  userId: string;
  /** `sid`: the session the token belongs to. */
  sessionId: string;
  /**
   * `local`: the roles in the token (as they were when it was issued). `strict`: the user's roles
   * now, as introspection reports them, so an operator's change applies to strict routes at once.
   */
  roles: string[];
  /** How the token was checked for this request (`strict` for a push route while the stream is down). */
  mode: AuthMode;
  claims: AccessTokenClaims;
}

export interface VerifyOptions {
  /** Default: the client's `defaultMode`. */
  mode?: AuthMode;
  /** Every requirement must be met, else 403 `forbidden`. */
  roles?: RoleRequirement | RoleRequirement[];
}

/** RFC 7662 answer, as far as we use it. */
interface IntrospectionAnswer {
  active: boolean;
  sub?: string;
  sid?: string;
  /** The user's current roles (the auth service reads them with the session, not from the token). */
  roles?: string[];
}

/** RFC 6750 bearer credentials; the token syntax is b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
const MAX_TOKEN_LENGTH = 8192;
const WARNING_INTERVAL_MS = 10_000;

/**
 * Verifies the auth service's access tokens. Framework-free: the Nest guard uses it, and so can
 * any other Node code (`createAuthClient(options).authenticate(req.headers.authorization)`).
 *
 * - `local`: signature (keys from the JWKS, cached), `typ` at+jwt, algorithm allow-list, `iss`,
 *   `aud`, `exp` (with clock tolerance) and the claims' shapes. No network call per request.
 * - `strict`: `local`, then the auth service's introspection endpoint (revocation-aware), its
 *   answers cached per token for `introspection.cacheTtlMs`, concurrent misses single-flighted.
 *   A token that fails the local check never reaches introspection.
 * - `push`: `local`, then the set of revoked sessions that the auth service's revocation stream
 *   keeps up to date (RevocationStreamClient): no network call per request, a revocation refused
 *   within a second. While the stream cannot vouch for the set (before its first snapshot, or down
 *   longer than `push.maxStaleMs`), `strict` or a 503, as `push.whenDown` says.
 */
export class AuthClient {
  readonly options: ResolvedOptions;
  readonly keys: JwksKeyStore;
  private readonly introspections?: IntrospectionCache<IntrospectionAnswer>;
  /** Present when push mode is configured. */
  readonly revocations?: RevocationStreamClient;
  private readonly counters = { introspectionRequests: 0, introspectionFailures: 0, pushFallbacks: 0 };
  private readonly basicAuth?: string;
  /** Outage warnings are logged once per burst, not once per request. */
  private lastWarningAt = Number.NEGATIVE_INFINITY;

  constructor(options: AuthClientOptions) {
    this.options = resolveOptions(options);
    const o = this.options;
    this.keys = new JwksKeyStore({
      ...o.jwks,
      algorithms: o.algorithms,
      fetch: o.fetch,
      clock: o.clock,
      logger: o.logger,
    });
    if (o.introspection) {
      this.introspections = new IntrospectionCache({
        ttlMs: o.introspection.cacheTtlMs,
        maxEntries: o.introspection.cacheMaxEntries,
        clock: o.clock,
      });
      // RFC 6749 §2.3.1: id and secret are form-urlencoded before the Basic encoding.
      const { clientId, clientSecret } = o.introspection;
      this.basicAuth = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
    }
    if (o.push && this.basicAuth) {
      this.revocations = new RevocationStreamClient({
        ...o.push,
        authorization: this.basicAuth,
        clockToleranceSeconds: o.clockToleranceSeconds,
        fetch: o.fetch,
        clock: o.clock,
        logger: o.logger,
      });
    }
  }

  get defaultMode(): AuthMode {
    return this.options.defaultMode;
  }

  /**
   * Loads the keys ahead of the first request and opens the revocation stream (push mode). Never
   * throws: a failure is logged and retried.
   */
  async warmUp(): Promise<boolean> {
    this.revocations?.start();
    await this.keys.refreshIfAllowed();
    return this.keys.ready;
  }

  /** Closes the revocation stream (push mode). */
  close(): void {
    this.revocations?.stop();
  }

  /** Counters for dashboards and tests. */
  stats() {
    return {
      jwksFetches: this.keys.stats.fetches,
      jwksFailures: this.keys.stats.failures,
      introspectionRequests: this.counters.introspectionRequests,
      introspectionFailures: this.counters.introspectionFailures,
      introspectionCacheHits: this.introspections?.stats.hits ?? 0,
      introspectionCacheSize: this.introspections?.size ?? 0,
      /** Push requests checked by `push.whenDown` (introspection or 503) because the stream could not vouch. */
      pushFallbacks: this.counters.pushFallbacks,
      /** Push mode's stream: state, events received, time since the last event… (null without push). */
      revocationStream: this.revocations?.stats() ?? null,
    };
  }

  /** The principal for an `Authorization` header value; throws AuthError (401/403/503) otherwise. */
  authenticate(authorization: unknown, options: VerifyOptions = {}): Promise<Principal> {
    const token = typeof authorization === 'string' ? BEARER.exec(authorization.trim())?.[1] : undefined;
    if (token === undefined)
      return Promise.reject(invalidToken(authorization === undefined ? 'missing' : 'malformed'));
    return this.verify(token, options);
  }

  /** The principal for a raw access token; throws AuthError (401/403/503) otherwise. */
  async verify(token: string, options: VerifyOptions = {}): Promise<Principal> {
    let mode = options.mode ?? this.options.defaultMode;
    const claims = await this.verifyLocally(token);
    if (mode === 'push') mode = this.checkPushed(claims);
    const current = mode === 'strict' ? await this.checkActive(token, claims) : undefined;
    const principal: Principal = {
      userId: claims.sub,
      sessionId: claims.sid,
      roles: current?.roles ?? claims.roles,
      mode,
      claims,
    };
    const requirements = options.roles === undefined ? [] : ([] as RoleRequirement[]).concat(options.roles);
    if (!hasRoles(principal.roles, ...requirements)) throw forbidden();
    return principal;
  }

  private async verifyLocally(token: string): Promise<AccessTokenClaims> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw invalidToken('malformed');
    }
    let header: { alg?: string; kid?: string };
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw invalidToken('malformed');
    }
    if (!header.alg || !this.options.algorithms.includes(header.alg as SupportedAlgorithm)) {
      throw invalidToken('algorithm');
    }
    if (typeof header.kid !== 'string' || header.kid.length === 0 || header.kid.length > 256) {
      throw invalidToken('unknown_key');
    }
    let key;
    try {
      key = await this.keys.getKey(header.kid);
    } catch (error) {
      if (error instanceof KeysUnavailableError) throw authUnavailable('keys_unavailable');
      throw error;
    }
    if (!key) throw invalidToken('unknown_key');
    if (key.alg !== header.alg) throw invalidToken('algorithm');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key.key, {
        algorithms: [key.alg],
        issuer: this.options.issuer,
        audience: this.options.audience,
        typ: 'at+jwt',
        clockTolerance: this.options.clockToleranceSeconds,
        requiredClaims: ['iss', 'aud', 'sub', 'sid', 'iat', 'exp', 'jti'],
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw invalidToken('expired');
      if (error instanceof errors.JOSEError) throw invalidToken('signature_or_claims');
      throw error;
    }
    const claims = toClaims(payload);
    if (!claims) throw invalidToken('signature_or_claims');
    return claims;
  }

  /**
   * Push mode: refused when the stream said the session was revoked; accepted when the stream
   * vouches for its set; otherwise the fallback (`strict`, answered as the mode to run next) or 503.
   */
  private checkPushed(claims: AccessTokenClaims): AuthMode {
    const stream = this.revocations;
    if (!stream) {
      this.options.logger.error('a route asks for push mode but push is not configured');
      throw authUnavailable('push_not_configured');
    }
    // Starts on the first push request when warmUp was not called (plain code).
    stream.start();
    const verdict = stream.verdict(claims.sid);
    if (verdict === 'revoked') throw invalidToken('revoked');
    if (verdict === 'not_revoked') return 'push';
    this.counters.pushFallbacks++;
    if (this.options.push!.whenDown === 'refuse') throw authUnavailable('revocations_unavailable');
    return 'strict';
  }

  /** Strict mode: the auth service must say the token is still active (answer cached briefly). */
  private async checkActive(token: string, claims: AccessTokenClaims): Promise<IntrospectionAnswer> {
    const cache = this.introspections;
    if (!cache) {
      this.options.logger.error(
        'a route asks for strict mode but no introspection credentials are configured',
      );
      throw authUnavailable('introspection_not_configured');
    }
    const key = createHash('sha256').update(token).digest('base64url');
    // The token's exp, on the cache's clock: an answer never outlives the token.
    const notAfter = this.options.clock() + (claims.exp * 1000 - Date.now());
    let answer: IntrospectionAnswer;
    try {
      answer = await cache.get(key, notAfter, () => this.introspect(token));
    } catch (error) {
      if (error instanceof AuthError) throw error;
      throw authUnavailable('introspection_unavailable');
    }
    if (
      !answer.active ||
      answer.sub !== claims.sub ||
      (answer.sid !== undefined && answer.sid !== claims.sid)
    ) {
      throw invalidToken('inactive');
    }
    return answer;
  }

  private async introspect(token: string): Promise<IntrospectionAnswer> {
    const o = this.options.introspection!;
    this.counters.introspectionRequests++;
    try {
      const response = await this.options.fetch(o.url, {
        method: 'POST',
        headers: {
          authorization: this.basicAuth!,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        redirect: 'error',
        signal: AbortSignal.timeout(o.timeoutMs),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        const hint = response.status === 401 ? ': our client credentials were refused, check them' : '';
        throw new Error(`HTTP ${response.status}${hint}`);
      }
      const body = (await response.json()) as Partial<IntrospectionAnswer> | null;
      if (typeof body?.active !== 'boolean') throw new Error('not an RFC 7662 answer');
      return {
        active: body.active,
        sub: typeof body.sub === 'string' ? body.sub : undefined,
        sid: typeof body.sid === 'string' ? body.sid : undefined,
        roles: isStringArray(body.roles) ? [...body.roles] : undefined,
      };
    } catch (error) {
      this.counters.introspectionFailures++;
      const now = this.options.clock();
      if (now - this.lastWarningAt >= WARNING_INTERVAL_MS) {
        this.lastWarningAt = now;
        this.options.logger.warn(
          `introspection at ${o.url} failed (${(error as Error).message ?? error}); strict routes answer 503 ` +
            `auth_unavailable until it answers again (logged once per ${WARNING_INTERVAL_MS / 1000} s)`,
        );
      }
      throw error;
    }
  }
}

/** A client for non-Nest code. Create one per process and reuse it: it holds the key and answer caches. */
export function createAuthClient(options: AuthClientOptions): AuthClient {
  return new AuthClient(options);
}

function toClaims(payload: JWTPayload): AccessTokenClaims | undefined {
  const { iss, aud, sub, iat, exp, jti } = payload;
  const { sid, roles } = payload as { sid?: unknown; roles?: unknown };
  if (typeof sub !== 'string' || sub.length === 0 || typeof sid !== 'string' || sid.length === 0)
    return undefined;
  if (typeof jti !== 'string' || typeof iat !== 'number' || typeof exp !== 'number') return undefined;
  if (!isStringArray(roles)) return undefined;
  return { iss: iss as string, aud: aud as string | string[], sub, sid, iat, exp, jti, roles: [...roles] };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((r) => typeof r === 'string');
}
