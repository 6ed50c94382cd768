import { applyDecorators } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCookieAuth,
  ApiExtension,
  ApiProperty,
  ApiResponse,
  ApiSecurity,
  getSchemaPath,
} from '@nestjs/swagger';
import { ERROR_CODES, ErrorCode } from './error-codes';

/** The one error shape of every answer that is not a success (docs/api.md, Conventions). */
export class ErrorResponse {
  @ApiProperty({ example: 401 })
  statusCode!: number;
  @ApiProperty({ example: 'Unauthorized' })
  error!: string;
  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] })
  message!: string | string[];
  @ApiProperty({ enum: Object.keys(ERROR_CODES), example: 'invalid_token' })
  code!: ErrorCode;
}

/** The codes already documented on a route (or controller), so that two decorators add up. */
const DOCUMENTED_CODES = Symbol('documented error codes');

/** Statuses whose answer says when to try again. */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

/**
 * The documentation of one error status with its codes: the shared ErrorResponse component, the
 * codes as an enum, and `Retry-After` where the answer carries it. Also used by
 * bootstrap/openapi-responses.ts for the errors every route of a kind can answer.
 */
export function errorResponseFor(status: number, codes: string[]) {
  return {
    description: `Error, code: ${codes.join(' | ')}`,
    headers: RETRY_AFTER_STATUSES.has(status)
      ? { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } }
      : undefined,
    schema: {
      allOf: [
        { $ref: getSchemaPath(ErrorResponse) },
        { type: 'object', properties: { code: { type: 'string', enum: codes } } },
      ],
    },
  };
}

/** A code at its usual status (ERROR_CODES), or at the other status a route answers it with. */
type DocumentedError = ErrorCode | { code: ErrorCode; status: number };

const statusOf = (e: DocumentedError) => (typeof e === 'string' ? ERROR_CODES[e] : e.status);
const codeOf = (e: DocumentedError) => (typeof e === 'string' ? e : e.code);

function errorResponses(errors: DocumentedError[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const e of errors) byStatus.set(statusOf(e), [...(byStatus.get(statusOf(e)) ?? []), codeOf(e)]);
  return applyDecorators(
    ...[...byStatus].map(([status, list]) => ApiResponse({ status, ...errorResponseFor(status, list) })),
  );
}

/**
 * Documents the error answers of a route with their codes, in the shared error shape. Applied
 * twice on one route (ApiBearer's 401 and the route's own), the codes of one status add up
 * instead of the second response replacing the first.
 */
export function ApiErrors(...codes: DocumentedError[]): MethodDecorator & ClassDecorator {
  return (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = (descriptor?.value as object | undefined) ?? target;
    const before = (Reflect.getMetadata(DOCUMENTED_CODES, holder) as DocumentedError[] | undefined) ?? [];
    const seen = new Set<string>();
    const all = [...before, ...codes].filter((e) => {
      const id = `${statusOf(e)} ${codeOf(e)}`;
      return !seen.has(id) && seen.add(id);
    });
    Reflect.defineMetadata(DOCUMENTED_CODES, all, holder);
    if (descriptor && key !== undefined) errorResponses(all)(target, key, descriptor);
    else (errorResponses(all) as ClassDecorator)(target as () => unknown);
  };
}

/** The security scheme of the refresh cookie (an apiKey in a cookie), declared in bootstrap/openapi.ts. */
export const REFRESH_COOKIE_SCHEME = 'refreshCookie';

/**
 * A route that takes the refresh token from its cookie or, for clients without cookies, from the
 * body: the cookie scheme, or nothing (`{}`), satisfies it.
 */
export function ApiRefreshCookieAuth(): MethodDecorator {
  return applyDecorators(ApiCookieAuth(REFRESH_COOKIE_SCHEME), ApiSecurity({}));
}

/** A bearer-protected route: documents the scheme and the 401. */
export function ApiBearer(): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiBearerAuth(), ApiErrors('invalid_token'));
}

/** The extension bootstrap/openapi-responses.ts turns into a `Set-Cookie` header on the route's successes. */
export const REFRESH_COOKIE_EXTENSION = 'x-refresh-cookie';

/**
 * A route whose success answer sets the refresh cookie (`set`: a new token) or clears it
 * (`cleared`) without answering the token pair (an answer of TokenResponseDto is marked by
 * itself): documented as a `Set-Cookie` header of its 2xx/3xx responses.
 */
export function ApiRefreshCookie(effect: 'set' | 'cleared'): MethodDecorator {
  return ApiExtension(REFRESH_COOKIE_EXTENSION, { effect }) as MethodDecorator;
}
