import type { AuthClientOptions } from '@auth-service/auth-client';

export interface ConsumerConfig {
  port: number;
  host: string;
  auth: AuthClientOptions;
}

/**
 * The example consumer's settings, from the environment:
 * AUTH_URL (required), AUTH_AUDIENCE (the auth service's JWT_AUDIENCE, default `auth-service`),
 * AUTH_ISSUER (its JWT_ISSUER, default AUTH_URL), INTROSPECTION_CLIENT_ID and
 * INTROSPECTION_CLIENT_SECRET (one pair of the auth service's INTROSPECTION_CLIENTS; needed by the
 * strict and push routes: with them the revocation stream is followed), PORT (default 3001), HOST
 * (default 0.0.0.0), and optionally AUTH_INTROSPECTION_CACHE_TTL_MS, AUTH_JWKS_MIN_REFETCH_INTERVAL_MS,
 * AUTH_JWKS_MAX_AGE_MS, AUTH_PUSH_MAX_STALE_MS and AUTH_PUSH_WHEN_DOWN (`strict` or `refuse`).
 */
export function loadConsumerConfig(env: NodeJS.ProcessEnv = process.env): ConsumerConfig {
  const problems: string[] = [];
  const number = (name: string, fallback?: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) problems.push(`${name} must be a non-negative integer`);
    return value;
  };
  const authUrl = env.AUTH_URL ?? '';
  if (!/^https?:\/\/./.test(authUrl)) problems.push('AUTH_URL must be the http(s) URL of the auth service');
  const clientId = env.INTROSPECTION_CLIENT_ID;
  const clientSecret = env.INTROSPECTION_CLIENT_SECRET;
  if (!clientId !== !clientSecret) {
    problems.push('INTROSPECTION_CLIENT_ID and INTROSPECTION_CLIENT_SECRET go together: set both or neither');
  }
  const port = number('PORT', 3001)!;
  const cacheTtlMs = number('AUTH_INTROSPECTION_CACHE_TTL_MS');
  const minRefetchIntervalMs = number('AUTH_JWKS_MIN_REFETCH_INTERVAL_MS');
  const maxAgeMs = number('AUTH_JWKS_MAX_AGE_MS');
  const maxStaleMs = number('AUTH_PUSH_MAX_STALE_MS');
  const whenDown = env.AUTH_PUSH_WHEN_DOWN || undefined;
  if (whenDown !== undefined && whenDown !== 'strict' && whenDown !== 'refuse') {
    problems.push('AUTH_PUSH_WHEN_DOWN must be strict or refuse');
  }
  if (problems.length > 0) throw new Error(`Invalid configuration: ${problems.join('; ')}`);
  return {
    port,
    host: env.HOST ?? '0.0.0.0',
    auth: {
      authUrl,
      issuer: env.AUTH_ISSUER || undefined,
      audience: env.AUTH_AUDIENCE || 'auth-service',
      jwks: { minRefetchIntervalMs, maxAgeMs },
      introspection: clientId && clientSecret ? { clientId, clientSecret, cacheTtlMs } : undefined,
      // The push route follows the revocation stream, which needs the same client credentials.
      push:
        clientId && clientSecret
          ? { maxStaleMs, whenDown: whenDown as 'strict' | 'refuse' | undefined }
          : undefined,
    },
  };
}
