import type { FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import { normalizeEmail } from '../users/public-user';

/** The email of a JSON or form body, normalised as the DTOs do; undefined when absent or not plausible. */
export function bodyEmail(request: FastifyRequest): string | undefined {
  const email = (request.body as { email?: unknown } | undefined | null)?.email;
  if (typeof email !== 'string') return undefined;
  const normalized = normalizeEmail(email);
  return normalized.length > 0 && normalized.length <= 254 ? normalized : undefined;
}

/**
 * The client as rate limits count it: its address (the socket's, or X-Forwarded-For's from the
 * proxies TRUST_PROXY trusts), an IPv6 one by its /64: one subscriber usually holds a whole /64,
 * so a per-/128 bucket would give them 2^64 fresh ones.
 */
export function clientIp(request: FastifyRequest): string {
  return rateLimitAddress(request.ip || 'unknown');
}

export function rateLimitAddress(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  return `${prefix64(ip)}::/64`;
}

/** The first four groups of an IPv6 address, in one spelling whatever the input's (`::`, zeros, case). */
function prefix64(ip: string): string {
  const address = (ip.split('%')[0] ?? '').toLowerCase();
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // A trailing dotted IPv4 part stands for two groups.
  const written = left.length + right.length + (right.at(-1)?.includes('.') ? 1 : 0);
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : 8 - written).fill('0'), ...right];
  return groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':');
}
