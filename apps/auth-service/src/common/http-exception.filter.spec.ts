import { BadRequestException, HttpException, Logger, NotFoundException } from '@nestjs/common';
import { ApiError } from './api-error';
import { toErrorBody } from './http-exception.filter';

describe('toErrorBody', () => {
  const logger = new Logger('test');
  beforeAll(() => Logger.overrideLogger(false));

  it('renders an ApiError with its code and headers', () => {
    const { body, headers } = toErrorBody(
      new ApiError('invalid_token', 'nope', { 'WWW-Authenticate': 'Bearer' }),
      logger,
    );
    expect(body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'nope', code: 'invalid_token' });
    expect(headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
  });

  it('gives Nest HTTP exceptions a code from their status', () => {
    expect(toErrorBody(new NotFoundException('Cannot GET /x'), logger).body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Cannot GET /x',
      code: 'not_found',
    });
  });

  it.each([
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 'invalid_json'],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 'invalid_json'],
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'payload_too_large'],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'unsupported_media_type'],
  ])('maps Fastify %s (also when Nest wrapped it) to %i %s', (code, status, apiCode) => {
    const fastifyError = Object.assign(new Error('x'), { code, statusCode: status });
    expect(toErrorBody(fastifyError, logger).body).toMatchObject({ statusCode: status, code: apiCode });
    const wrapped = new HttpException('x', status, { cause: fastifyError });
    expect(toErrorBody(wrapped, logger).body).toMatchObject({ statusCode: status, code: apiCode });
  });

  it('answers 503 database_unavailable when PostgreSQL cannot be reached', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const { body, headers } = toErrorBody(new Error('query failed', { cause: error }), logger);
    expect(body).toMatchObject({ statusCode: 503, code: 'database_unavailable' });
    expect(headers['Retry-After']).toBeDefined();
  });

  it('hides the details of an unexpected error', () => {
    const { body } = toErrorBody(
      new TypeError("Cannot read properties of undefined (reading 'x') at SELECT * FROM users"),
      logger,
    );
    expect(body).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Internal server error',
      code: 'internal_error',
    });
  });

  it('keeps validation messages as a list', () => {
    const { body } = toErrorBody(new ApiError('validation_failed', ['a is bad', 'b is bad']), logger);
    expect(body.message).toEqual(['a is bad', 'b is bad']);
    expect(toErrorBody(new BadRequestException(['x']), logger).body.code).toBe('validation_failed');
  });
});
