import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { ApiError } from '../common/api-error';
import { addBodyRouteHook } from '../http/route-hooks';

/** No DTO is nested; deeper bodies only exercise the validator's recursion (a 5xx found by fuzzing). */
export const MAX_BODY_DEPTH = 16;

/** A lone UTF-16 surrogate: not Unicode text (validator.js's isEmail throws on it: a 5xx found by fuzzing). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function stringProblem(value: string): string | undefined {
  // PostgreSQL text cannot hold NUL: refuse it here rather than fail at the database.
  if (value.includes('\u0000')) return 'Strings must not contain NUL characters';
  if (LONE_SURROGATE.test(value)) return 'Strings must be well-formed Unicode (no lone surrogates)';
  return undefined;
}

/** The first problem of a parsed body, walked iteratively (a hostile depth cannot overflow the stack). */
export function bodyProblem(body: unknown): string | undefined {
  const stack: Array<[unknown, number]> = [[body, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value === 'string') {
      const problem = stringProblem(value);
      if (problem) return problem;
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH) return `The request body is nested more than ${MAX_BODY_DEPTH} levels deep`;
    for (const [key, child] of Object.entries(value)) {
      const problem = stringProblem(key);
      if (problem) return problem;
      stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

/**
 * Input limits that hold for every route that takes a body, checked on the parsed body before validation: no NUL
 * characters, no lone surrogates, and at most MAX_BODY_DEPTH levels of nesting (400 `validation_failed`). Sizes are
 * bounded elsewhere: the whole body by the parser (16 KiB, 413), each field by its DTO.
 */
export function registerInputLimits(fastify: FastifyInstance): void {
  addBodyRouteHook(
    fastify,
    'preValidation',
    (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
      const problem = bodyProblem(request.body);
      done(problem ? new ApiError('validation_failed', [problem]) : undefined);
    },
  );
}
