/** The global prefix of the API's routes (set in create-app.ts); part of the HTTP contract. */
export const API_PREFIX = 'api/v1';

/** The absolute path of an API route: apiPath('auth/me') is `/${API_PREFIX}/auth/me`. */
export function apiPath(route: string): string {
  return `/${API_PREFIX}/${route.replace(/^\/+/, '')}`;
}
