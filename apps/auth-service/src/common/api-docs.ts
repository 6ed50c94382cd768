import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiResponse, getSchemaPath } from '@nestjs/swagger';
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

function errorResponses(codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes)
    byStatus.set(ERROR_CODES[code], [...(byStatus.get(ERROR_CODES[code]) ?? []), code]);
  return applyDecorators(
    ...[...byStatus].map(([status, list]) =>
      ApiResponse({
        status,
        description: `Error, code: ${list.join(' | ')}`,
        headers:
          status === 429
            ? { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } }
            : undefined,
        schema: {
          allOf: [
            { $ref: getSchemaPath(ErrorResponse) },
            { type: 'object', properties: { code: { type: 'string', enum: list } } },
          ],
        },
      }),
    ),
  );
}

/**
 * Documents the error answers of a route with their codes, in the shared error shape. Applied
 * twice on one route (ApiBearer's 401 and the route's own), the codes of one status add up
 * instead of the second response replacing the first.
 */
export function ApiErrors(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  return (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = (descriptor?.value as object | undefined) ?? target;
    const before = (Reflect.getMetadata(DOCUMENTED_CODES, holder) as ErrorCode[] | undefined) ?? [];
    const all = [...new Set([...before, ...codes])];
    Reflect.defineMetadata(DOCUMENTED_CODES, all, holder);
    if (descriptor && key !== undefined) errorResponses(all)(target, key, descriptor);
    else (errorResponses(all) as ClassDecorator)(target as () => unknown);
  };
}

/** A bearer-protected route: documents the scheme and the 401. */
export function ApiBearer(): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiBearerAuth(), ApiErrors('invalid_token'));
}
