import { HttpException } from '@nestjs/common';
import { ERROR_CODES, ErrorCode } from './error-codes';

/**
 * An error with a documented `code`; the exception filter renders it in the API's error shape.
 * `status` differs from the code's usual one only where API.md says so for that route (documented
 * with `ApiErrors({ code, status })`).
 */
export class ApiError extends HttpException {
  constructor(
    readonly code: ErrorCode,
    message: string | string[],
    readonly headers: Record<string, string> = {},
    status: number = ERROR_CODES[code],
  ) {
    super({ message, code }, status);
  }
}

export const invalidToken = (message = 'The access token is missing, invalid, expired or revoked') =>
  new ApiError('invalid_token', message, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
