/** SessionActivity as the bearer guard sees it: exported by the global BearerModule. */
export const BEARER_ACTIVITY = Symbol('BEARER_ACTIVITY');
