import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Principal } from '../auth-client';
import type { AuthMode } from '../options';
import type { RoleRequirement } from '../roles';
import { AUTH_MODE, PUBLIC_ROUTE, REQUIRED_ROLES } from './constants';

/** No token needed on this route or controller (when the guard protects every route). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** `local` (signature only) or `strict` (also asks the auth service whether the token is revoked). */
export const UseAuthMode = (mode: AuthMode) => SetMetadata(AUTH_MODE, mode);

/**
 * The caller must hold EVERY role listed, else 403 `forbidden`. Requirements add up: several
 * role decorators, on the controller and on the route, must all be met.
 */
export const RequireRoles = (...roles: string[]) => addRoleRequirement({ all: roles });

/** The caller must hold AT LEAST ONE of the roles listed, else 403 `forbidden`. */
export const RequireAnyRole = (...roles: string[]) => addRoleRequirement({ any: roles });

function addRoleRequirement(requirement: RoleRequirement): ClassDecorator & MethodDecorator {
  if ([...(requirement.all ?? []), ...(requirement.any ?? [])].length === 0) {
    throw new Error('A role decorator needs at least one role');
  }
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const where = (descriptor?.value ?? target) as object;
    const existing = (Reflect.getOwnMetadata(REQUIRED_ROLES, where) as RoleRequirement[] | undefined) ?? [];
    Reflect.defineMetadata(REQUIRED_ROLES, [...existing, requirement], where);
  };
}

/** The verified caller, as the guard left it on the request. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal | undefined =>
    ctx.switchToHttp().getRequest<{ user?: Principal }>().user,
);
