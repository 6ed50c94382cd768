import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import { ERROR_CODES, ErrorCode } from './error-codes';

/** Documents the error answers of a route with their codes, in the shared error shape. */
export function ApiErrors(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes)
    byStatus.set(ERROR_CODES[code], [...(byStatus.get(ERROR_CODES[code]) ?? []), code]);
  return applyDecorators(
    ...[...byStatus].map(([status, list]) =>
      ApiResponse({
        status,
        description: `Error, code: ${list.join(' | ')}`,
        schema: {
          type: 'object',
          properties: {
            statusCode: { type: 'integer', example: status },
            error: { type: 'string' },
            message: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
            code: { type: 'string', enum: list },
          },
        },
      }),
    ),
  );
}

/** A bearer-protected route: documents the scheme and the 401. */
export function ApiBearer(): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiBearerAuth(), ApiErrors('invalid_token'));
}
