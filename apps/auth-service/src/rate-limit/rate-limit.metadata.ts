import { RequestLimit } from './rate-limit.definitions';

export const RATE_LIMITS = Symbol('RATE_LIMITS');

/** What a route may name: request limits, and `login_lockout` (progressive lockout, account block). */
export type RouteLimit = RequestLimit | 'login_lockout';
