import type { FastifyRequest } from 'fastify';
import type { RequestLimit } from '../rate-limit/rate-limit.definitions';

export const TOKEN_MAX_LENGTH = 8192;
export const TOKEN_TYPE_HINTS = ['access_token', 'refresh_token'];
/** The route's rate limit: failed client authentications per client IP (ClientCredentialsGuard). */
export const INTROSPECTION_LIMIT = 'introspect_ip' satisfies RequestLimit;

const LIMIT_READ = Symbol('introspection limit read');

/** The fast path read this request's limit already (and it was not over): the guard need not. */
export function markLimitRead(request: FastifyRequest): void {
  (request.raw as { [LIMIT_READ]?: true })[LIMIT_READ] = true;
}

export function limitAlreadyRead(request: FastifyRequest): boolean {
  return (request.raw as { [LIMIT_READ]?: true })[LIMIT_READ] === true;
}

/**
 * The token of an introspection body that IntrospectDto's validation certainly accepts: an object
 * with a string `token` of 1..TOKEN_MAX_LENGTH characters, at most a known `token_type_hint`
 * besides, nothing else. Undefined for anything else, which the validation pipe then judges.
 */
export function plainIntrospectToken(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  let token: string | undefined;
  for (const [key, value] of Object.entries(body)) {
    if (key === 'token' && typeof value === 'string') token = value;
    else if (!(key === 'token_type_hint' && TOKEN_TYPE_HINTS.includes(value as string))) return undefined;
  }
  return token !== undefined && token.length >= 1 && token.length <= TOKEN_MAX_LENGTH ? token : undefined;
}
