import type { FastifyRequest } from 'fastify';
import { ClientInfo } from '../sessions/sessions.service';

export function clientInfo(request: FastifyRequest): ClientInfo {
  const ua = request.headers['user-agent'];
  return { userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null, ip: request.ip ?? null };
}
