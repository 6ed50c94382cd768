import { CanActivate, ExecutionContext, HttpException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthClient, Principal } from '../auth-client';
import { AuthError } from '../errors';
import type { AuthMode } from '../options';
import type { RoleRequirement } from '../roles';
import { AUTH_MODE, PUBLIC_ROUTE, REQUIRED_ROLES } from './constants';

type HeaderSetter = {
  header?: (name: string, value: string) => unknown;
  setHeader?: (name: string, value: string) => unknown;
};

/**
 * Lets an HTTP request through when its bearer access token checks out in the route's mode and
 * holds the route's roles, and puts the Principal on `request.user`. Otherwise throws an
 * HttpException whose body is `{statusCode, error, message, code}`: 401 `invalid_token` (with
 * `WWW-Authenticate: Bearer error="invalid_token"`), 403 `forbidden`, or 503 `auth_unavailable`
 * (with `Retry-After`) when the check itself cannot be made.
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(
    private readonly client: AuthClient,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') throw new Error('AccessTokenGuard protects HTTP routes only');
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, targets)) return true;
    const mode =
      this.reflector.getAllAndOverride<AuthMode | undefined>(AUTH_MODE, targets) ?? this.client.defaultMode;
    const roles = [context.getClass(), context.getHandler()].flatMap(
      (target) => this.reflector.get<RoleRequirement[] | undefined>(REQUIRED_ROLES, target) ?? [],
    );
    const http = context.switchToHttp();
    const request = http.getRequest<{ headers?: Record<string, unknown>; user?: Principal }>();
    try {
      request.user = await this.client.authenticate(request.headers?.authorization, { mode, roles });
      return true;
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      const response = http.getResponse<HeaderSetter>();
      for (const [name, value] of Object.entries(error.headers)) {
        if (typeof response.header === 'function') response.header(name, value);
        else response.setHeader?.(name, value);
      }
      throw new HttpException(error.body, error.status, { cause: error });
    }
  }
}
