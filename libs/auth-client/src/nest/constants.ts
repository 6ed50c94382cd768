/** Injection token of the module's resolved options. */
export const AUTH_CLIENT_OPTIONS = Symbol('AUTH_CLIENT_OPTIONS');

/** Metadata keys of the decorators. */
export const PUBLIC_ROUTE = 'auth-client:public';
export const AUTH_MODE = 'auth-client:mode';
export const REQUIRED_ROLES = 'auth-client:roles';
