import type { OpenAPIObject } from '@nestjs/swagger';
import { errorResponseFor, REFRESH_COOKIE_EXTENSION } from '../common/api-docs';
import { ERROR_CODES, ErrorCode } from '../common/error-codes';
import { CODE_BY_STATUS } from '../common/http-exception.filter';
import { apiPath } from '../http/api-prefix';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * Methods whose routes read a body: the media-type and input-limit hooks run on them
 * (http/route-hooks.ts: addBodyRouteHook), and Fastify parses a JSON body whatever the handler.
 */
const BODY_METHODS = new Set<string>(['post', 'put', 'patch', 'delete']);
const BODY_ERRORS: ErrorCode[] = ['invalid_json', 'payload_too_large', 'unsupported_media_type'];

/**
 * Routes that never wait on PostgreSQL, so never answer 503 `database_unavailable`: the process,
 * the metrics registry, the keys held in memory (reloaded in the background), the discovery
 * document (configuration, cached) and the provider list (configuration). Readiness answers its
 * own 503 (terminus's shape). Every other route reads or writes the database, at least on a
 * cache miss of the caller's session.
 */
const ROUTES_WITHOUT_DATABASE = new Set([
  'GET /health/live',
  'GET /health/ready',
  'GET /metrics',
  'GET /.well-known/jwks.json',
  'GET /.well-known/openid-configuration',
  `GET ${apiPath('auth/oauth/providers')}`,
]);

interface Response {
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: ErrorSchema }>;
}
interface ErrorSchema {
  allOf?: { properties?: { code?: { enum?: string[] } } }[];
}
interface Operation {
  responses: Record<string, Response>;
  [extension: `x-${string}`]: unknown;
}

/** The codes of an error response built by errorResponseFor, or undefined for any other shape. */
function codesOf(response: Response): string[] | undefined {
  return response.content?.['application/json']?.schema?.allOf?.[1]?.properties?.code?.enum;
}

function addErrors(operation: Operation, codes: ErrorCode[]): void {
  for (const code of codes) {
    const status = String(ERROR_CODES[code]);
    const existing = operation.responses[status];
    // A response of its own shape (readiness) stays; one without a body gets the shared shape.
    if (existing?.content && !codesOf(existing)) continue;
    const merged = [...new Set([...((existing && codesOf(existing)) ?? []), code])];
    const { schema, ...rest } = errorResponseFor(Number(status), merged);
    operation.responses[status] = { ...rest, content: { 'application/json': { schema } } };
  }
}

/**
 * Rewrites each error response once from its codes (Swagger concatenates the descriptions of
 * merged decorators), and gives the shared shape to an error a library documents without one
 * (the metrics token's 401: a plain UnauthorizedException, which the filter answers with the
 * status's code).
 */
function normalizeErrors(operation: Operation): void {
  for (const [status, response] of Object.entries(operation.responses)) {
    const plainCode = CODE_BY_STATUS[Number(status)];
    if (Number(status) >= 400 && !response.content && plainCode) addErrors(operation, [plainCode]);
    const codes = codesOf(operation.responses[status]!);
    if (codes) operation.responses[status]!.description = errorResponseFor(Number(status), codes).description;
  }
}

const SET_COOKIE = {
  set: 'The new refresh token: `refresh_token=…; Max-Age=…; Path=/api/v1/auth; HttpOnly; SameSite=Strict` (and `Secure` unless COOKIE_SECURE=false)',
  cleared:
    'The refresh cookie cleared: `refresh_token=; Max-Age=0; Path=/api/v1/auth; HttpOnly; SameSite=Strict`',
};

const TOKEN_RESPONSE = '#/components/schemas/TokenResponseDto';

/** Whether a success answers the token pair: every such answer also sets the refresh cookie. */
function answersTokens(response: Response): boolean {
  return (
    (response.content?.['application/json']?.schema as { $ref?: string } | undefined)?.$ref === TOKEN_RESPONSE
  );
}

/**
 * `Set-Cookie` on the successes of the routes marked with ApiRefreshCookie (the OAuth callback's
 * redirect, logout's clearing) and of every answer with the token pair (register, login,
 * refresh, passkey and second-factor sign-ins: all set the cookie with the tokens).
 */
function documentRefreshCookie(operation: Operation): void {
  const marker = operation[REFRESH_COOKIE_EXTENSION] as { effect: keyof typeof SET_COOKIE } | undefined;
  delete operation[REFRESH_COOKIE_EXTENSION];
  for (const [status, response] of Object.entries(operation.responses)) {
    const effect = marker?.effect ?? (answersTokens(response) ? 'set' : undefined);
    if (effect && /^[23]/.test(status))
      response.headers = {
        ...response.headers,
        'Set-Cookie': { description: SET_COOKIE[effect], schema: { type: 'string' } },
      };
  }
}

/**
 * The answers no controller decorator states because they come from the framework around every
 * route of a kind: a body's 400 `invalid_json`, 413 and 415, and 503 `database_unavailable` (with
 * `Retry-After`); plus the `Set-Cookie` header of the answers that set or clear the refresh cookie.
 */
export function addGenericResponses(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths))
    for (const method of METHODS) {
      const operation = item[method] as Operation | undefined;
      if (!operation) continue;
      if (BODY_METHODS.has(method)) addErrors(operation, BODY_ERRORS);
      if (!ROUTES_WITHOUT_DATABASE.has(`${method.toUpperCase()} ${path}`))
        addErrors(operation, ['database_unavailable']);
      documentRefreshCookie(operation);
      normalizeErrors(operation);
    }
}
