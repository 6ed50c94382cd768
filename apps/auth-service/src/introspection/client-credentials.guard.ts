import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { clientIp } from '../rate-limit/request-keys';
import { ClientCredentials } from './client-credentials';
import { INTROSPECTION_LIMIT, limitAlreadyRead } from './introspect-request';

/**
 * Lets a request through when its Basic credentials name an introspection client; 401 otherwise.
 * The route's per-IP limit counts failed authentications only: a resource server's own traffic is
 * never throttled, while an IP over the limit is refused (429) whatever it sends, the right
 * credentials included, or the limit would not stop anyone guessing a client secret.
 */
@Injectable()
export class ClientCredentialsGuard implements CanActivate {
  constructor(
    private readonly clients: ClientCredentials,
    private readonly limits: RateLimitService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const ip = clientIp(request);
    if (this.limits.enabled && !limitAlreadyRead(request)) {
      const refusal = await this.limits.overLimit(INTROSPECTION_LIMIT, ip);
      if (refusal) throw refusal;
    }
    if (this.clients.authenticate(request.headers.authorization) !== undefined) return true;
    const refusal = this.limits.enabled ? await this.limits.hit(INTROSPECTION_LIMIT, ip) : undefined;
    throw (
      refusal ??
      new ApiError('invalid_client', 'Client authentication failed', {
        'WWW-Authenticate': 'Basic realm="introspection"',
      })
    );
  }
}
