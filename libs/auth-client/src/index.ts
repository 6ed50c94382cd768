export * from './core';
export * from './nest/access-token.guard';
export * from './nest/auth-client.module';
export { AUTH_CLIENT_OPTIONS } from './nest/constants';
export * from './nest/decorators';
