import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { beforeFirst } from '../common/before-first';
import { ApiError } from '../common/api-error';
import { apiPath } from '../http/api-prefix';
import { addBodyRouteHook } from '../http/route-hooks';

/** RFC 7662 clients post forms; every other route takes JSON only (a form post is also a CSRF vector). */
const FORM_ROUTES = new Set([apiPath('auth/introspect')]);

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

/** Refuses a body of any other media type with 415 before it is read (routes that take a body). */
export function registerMediaTypeCheck(fastify: FastifyInstance): void {
  addBodyRouteHook(
    fastify,
    'onRequest',
    (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
      if (!hasBody(request)) return done();
      const type = beforeFirst(request.headers['content-type'] ?? '', ';')
        .trim()
        .toLowerCase();
      const path = beforeFirst(request.url, '?');
      if (
        type === 'application/json' ||
        (type === 'application/x-www-form-urlencoded' && FORM_ROUTES.has(path))
      ) {
        return done();
      }
      done(
        new ApiError(
          'unsupported_media_type',
          `Unsupported Content-Type "${type || '(none)'}"; send application/json`,
        ),
      );
    },
  );
}
