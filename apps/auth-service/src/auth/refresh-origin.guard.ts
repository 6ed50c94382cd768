import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { readRefreshCookie } from './refresh-cookie';

function originOf(value: string | undefined): string | undefined {
  if (!value || value === 'null') return undefined;
  try {
    return new URL(value).origin;
  } catch {
    return undefined;
  }
}

/**
 * Cross-site request protection of the cookie-based refresh, on top of SameSite=Strict: when the
 * refresh token comes from the cookie (a browser), the request must carry an Origin (or, failing
 * that, a Referer) that is APP_URL's origin or one of CORS_ORIGINS; otherwise 403 `forbidden`.
 * A refresh token in the body (a non-browser client, which has no ambient cookie) needs no Origin.
 */
@Injectable()
export class RefreshOriginGuard implements CanActivate {
  private readonly allowed: ReadonlySet<string>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.allowed = new Set(
      [config.http.appUrl, ...config.http.corsOrigins]
        .map((o) => originOf(o))
        .filter((o): o is string => o !== undefined),
    );
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const fromBody = (request.body as { refreshToken?: unknown } | undefined | null)?.refreshToken;
    // Only a token actually given in the body skips the check: `{"refreshToken": null}` falls back
    // to the cookie like an absent one, so it is a cookie refresh and needs the Origin too.
    if (typeof fromBody === 'string' || !readRefreshCookie(request)) return true;
    const origin = header(request, 'origin') ?? header(request, 'referer');
    const source = originOf(origin);
    if (source && this.allowed.has(source)) return true;
    throw new ApiError(
      'forbidden',
      'A cookie refresh must come from an allowed origin (Origin header missing or not allowed)',
    );
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}
