import type { FastifyRequest } from 'fastify';
import { normalizeEmail } from '../users/public-user';

/** The email of a JSON or form body, normalised as the DTOs do; undefined when absent or not plausible. */
export function bodyEmail(request: FastifyRequest): string | undefined {
  const email = (request.body as { email?: unknown } | undefined | null)?.email;
  if (typeof email !== 'string') return undefined;
  const normalized = normalizeEmail(email);
  return normalized.length > 0 && normalized.length <= 254 ? normalized : undefined;
}

/** The client address as the socket sees it (trustProxy is off; behind a proxy configure it there). */
export function clientIp(request: FastifyRequest): string {
  return request.ip || 'unknown';
}
