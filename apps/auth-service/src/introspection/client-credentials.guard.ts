import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error';
import { ClientCredentials } from './client-credentials';

/** Lets a request through when its Basic credentials name an introspection client; 401 otherwise. */
@Injectable()
export class ClientCredentialsGuard implements CanActivate {
  constructor(private readonly clients: ClientCredentials) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (this.clients.authenticate(request.headers.authorization) === undefined) {
      throw new ApiError('invalid_client', 'Client authentication failed', {
        'WWW-Authenticate': 'Basic realm="introspection"',
      });
    }
    return true;
  }
}
