/** SessionActivity as the bearer guard sees it: exported by AccessModule (see there why). */
export const BEARER_ACTIVITY = Symbol('BEARER_ACTIVITY');
