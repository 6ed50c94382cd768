import { parseCookie, stringifySetCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { apiPath } from '../http/api-prefix';

/*
 * The cookie that binds an OAuth flow to the browser that started it (RFC 9700 §4.7.1). Its hash
 * is stored with the flow's state, and the callback must bring the cookie back: a callback URL
 * handed to another browser (login CSRF), or an authorizeUrl from someone else's link, ends in
 * 400 invalid_oauth_state there.
 *
 * - HttpOnly: scripts never read it.
 * - SameSite=Lax, not Strict: the provider sends the browser back with a cross-site top-level
 *   GET, which Lax still carries.
 * - With COOKIE_SECURE: `__Host-` (Secure, Path=/, no Domain), so a sibling subdomain cannot toss
 *   its own value in. Without it (local HTTP), the prefix is not allowed: a plain cookie scoped to
 *   the OAuth routes.
 * - One value per browser, kept while it is well-formed: two flows started in two tabs each find
 *   the value they were stored with. Max-Age is the state's lifetime, renewed at each start.
 */

const SECURE_NAME = '__Host-oauth_binding';
const PLAIN_NAME = 'oauth_binding';
/** The authorize, link and callback routes; never sent to the others. */
const PLAIN_PATH = apiPath('auth/oauth');
/** 32 random bytes, base64url. */
const WELL_FORMED = /^[A-Za-z0-9_-]{43}$/;

const nameFor = (secure: boolean) => (secure ? SECURE_NAME : PLAIN_NAME);

/** The binding value the request's browser holds, if it holds a well-formed one. */
export function readBinding(request: { headers: { cookie?: string } }, secure: boolean): string | undefined {
  const header = request.headers.cookie;
  const value = header ? parseCookie(header)[nameFor(secure)] : undefined;
  return value && WELL_FORMED.test(value) ? value : undefined;
}

/** Gives the browser its binding value (the one it holds, or a new one) and answers it. */
export function bindBrowser(
  request: FastifyRequest,
  reply: FastifyReply,
  options: { secure: boolean; maxAgeSeconds: number },
): string {
  const value = readBinding(request, options.secure) ?? randomBytes(32).toString('base64url');
  void reply.header(
    'set-cookie',
    stringifySetCookie({
      name: nameFor(options.secure),
      value,
      httpOnly: true,
      sameSite: 'lax',
      secure: options.secure,
      path: options.secure ? '/' : PLAIN_PATH,
      maxAge: options.maxAgeSeconds,
    }),
  );
  return value;
}

/** What the state row keeps: the value itself never reaches the database. */
export const bindingHash = (value: string): string => createHash('sha256').update(value).digest('base64url');

/** Whether the callback's browser is the one the flow was stored for; constant time. */
export function bindingMatches(value: string | undefined, storedHash: string | null): boolean {
  // A row without a hash was stored by a version before the binding: it is refused too.
  if (!value || !storedHash) return false;
  const given = Buffer.from(bindingHash(value));
  const stored = Buffer.from(storedHash);
  return given.length === stored.length && timingSafeEqual(given, stored);
}
