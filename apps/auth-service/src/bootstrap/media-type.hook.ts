import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error';

/** RFC 7662 clients post forms; every other route takes JSON only (a form post is also a CSRF vector). */
const FORM_ROUTES = new Set(['/api/v1/auth/introspect']);

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

/** Refuses a body of any other media type with 415 before it is read. */
export function registerMediaTypeCheck(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (!hasBody(request)) return done();
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const path = request.url.split('?')[0];
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
  });
}
