import { parseCookie, stringifySetCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiPath } from '../http/api-prefix';

/*
 * The `cookie` package (what @fastify/cookie wraps), called by the few routes that use the refresh
 * cookie. Registering @fastify/cookie would add an onRequest (parse) and an onSend (write) hook to every
 * request, the hot read paths included, for one cookie on five routes.
 */

export const REFRESH_COOKIE = 'refresh_token';
/** Sent with the /auth routes only (refresh and logout read it), never with the others. */
const COOKIE_PATH = apiPath('auth');

export function setRefreshCookie(
  reply: FastifyReply,
  token: string,
  maxAgeSeconds: number,
  secure: boolean,
): void {
  void reply.header(
    'set-cookie',
    stringifySetCookie({
      name: REFRESH_COOKIE,
      value: token,
      httpOnly: true,
      sameSite: 'strict',
      path: COOKIE_PATH,
      secure,
      maxAge: maxAgeSeconds,
    }),
  );
}

export function clearRefreshCookie(reply: FastifyReply, secure: boolean): void {
  void reply.header(
    'set-cookie',
    stringifySetCookie({
      name: REFRESH_COOKIE,
      value: '',
      httpOnly: true,
      sameSite: 'strict',
      path: COOKIE_PATH,
      secure,
      expires: new Date(0),
      maxAge: 0,
    }),
  );
}

export function readRefreshCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  const value = header ? parseCookie(header)[REFRESH_COOKIE] : undefined;
  return value ? value : undefined;
}
