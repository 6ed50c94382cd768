import { SetMetadata } from '@nestjs/common';

export const ROLES_KEY = 'auth:roles';

/** The roles a route requires (any of them); checked by RolesGuard after BearerAuthGuard. */
export const Roles = (...roles: string[]) => SetMetadata(ROLES_KEY, roles);
