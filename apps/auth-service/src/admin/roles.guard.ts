import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError, invalidToken } from '../common/api-error';
import type { Principal } from '../access/principal';
import { ROLES_KEY } from './roles.decorator';

/**
 * Runs after BearerAuthGuard: 401 without a principal, 403 `forbidden` when the caller has none
 * of the roles `@Roles(...)` names. Roles are read from the user as cached now (strict entity),
 * so a promotion or demotion takes effect at once, not when the access token is renewed.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!required || required.length === 0) return true;
    const principal = context.switchToHttp().getRequest<{ user?: Principal }>().user;
    if (!principal) throw invalidToken();
    const roles = principal.user?.roles ?? principal.roles;
    if (!required.some((role) => roles.includes(role))) {
      throw new ApiError('forbidden', 'This route requires the admin role');
    }
    return true;
  }
}
