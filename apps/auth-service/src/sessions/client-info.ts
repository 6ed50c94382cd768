import type { IncomingHttpHeaders } from 'node:http';
import { ClientInfo } from './sessions.service';

/** The request's client as sessions and events record it (any request with headers and an IP). */
export function clientInfo(request: { headers: IncomingHttpHeaders; ip?: string }): ClientInfo {
  const ua = request.headers['user-agent'];
  return { userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null, ip: request.ip ?? null };
}
