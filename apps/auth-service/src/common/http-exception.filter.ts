import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { isDatabaseUnavailable } from '@app/database';
import type { FastifyReply } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { ApiError } from './api-error';
import { ErrorCode } from './error-codes';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
  code: ErrorCode;
}

/** The code of a plain Nest or Fastify error of each status (not an ApiError, which names its own). */
export const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'database_unavailable',
};

/** Renders every error, Nest's and Fastify's alike, in the documented shape, never with internals. */
export function toErrorBody(
  exception: unknown,
  logger: Logger,
): { body: ErrorBody; headers: Record<string, string> } {
  // Nest wraps Fastify's own 4xx errors (body parsing, size, media type); judge them by the original.
  if (
    exception instanceof HttpException &&
    !(exception instanceof ApiError) &&
    isFastifyError(exception.cause)
  ) {
    exception = exception.cause;
  }
  if (exception instanceof ApiError) {
    const response = exception.getResponse() as { message: string | string[] };
    return {
      body: body(exception.getStatus(), response.message, exception.code),
      headers: exception.headers,
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message =
      typeof response === 'string'
        ? response
        : ((response as { message?: string | string[] }).message ?? exception.message);
    return { body: body(status, message, CODE_BY_STATUS[status] ?? 'internal_error'), headers: {} };
  }
  if (isFastifyError(exception)) {
    return { body: fromFastify(exception), headers: {} };
  }
  if (isDatabaseUnavailable(exception)) {
    logger.warn(`database unavailable: ${(exception as Error).message}`);
    return {
      body: body(503, 'The database is unavailable; try again shortly', 'database_unavailable'),
      headers: { 'Retry-After': '5' },
    };
  }
  logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
  return { body: body(500, 'Internal server error', 'internal_error'), headers: {} };
}

type FastifyLikeError = { statusCode?: number; code?: string; message?: string };

function isFastifyError(error: unknown): error is FastifyLikeError {
  const e = error as FastifyLikeError | undefined;
  return (
    (typeof e?.code === 'string' && e.code.startsWith('FST_')) ||
    (error instanceof SyntaxError && e?.statusCode === 400)
  );
}

function fromFastify(error: FastifyLikeError): ErrorBody {
  if (error instanceof SyntaxError) return body(400, 'The request body is not valid JSON', 'invalid_json');
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return body(400, 'The request body is not valid JSON', 'invalid_json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return body(413, 'The request body is too large', 'payload_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return body(415, 'Unsupported Content-Type; send application/json', 'unsupported_media_type');
    default: {
      // A Fastify 5xx is our fault, not the client's: no details.
      if (!error.statusCode || error.statusCode >= 500)
        return body(500, 'Internal server error', 'internal_error');
      return body(
        error.statusCode,
        error.message ?? 'Bad request',
        CODE_BY_STATUS[error.statusCode] ?? 'validation_failed',
      );
    }
  }
}

function body(statusCode: number, message: string | string[], code: ErrorCode): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, code };
}

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { body: payload, headers } = toErrorBody(exception, this.logger);
    // A route may have set another Content-Type (e.g. text/plain on /metrics) before failing.
    void reply
      .headers(headers)
      .type('application/json; charset=utf-8')
      .status(payload.statusCode ?? HttpStatus.INTERNAL_SERVER_ERROR)
      .send(payload);
  }
}
