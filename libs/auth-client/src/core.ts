/** Everything that works without NestJS: `import { createAuthClient } from '@auth-service/auth-client/core'`. */
export * from './auth-client';
export * from './errors';
export * from './options';
export * from './roles';
export { IntrospectionCache } from './introspection-cache';
export { JwksKeyStore } from './jwks-key-store';
export { RevocationStreamClient } from './revocation-stream-client';
export type { RevocationStreamStats, StreamState, StreamVerdict } from './revocation-stream-client';
