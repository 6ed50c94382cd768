import { CanActivate, ExecutionContext, Injectable, OnModuleInit } from '@nestjs/common';
import passport from 'passport';
import { ApiError } from '../../common/api-error';
import { OAuthOutcome, OAuthService } from '../oauth.service';
import { OAuthProvidersRegistry } from '../providers/oauth-providers.registry';
import { OAuthCallbackStrategy } from './oauth-callback.strategy';

/**
 * One Passport `Authenticator` per app instance with one OAuthCallbackStrategy per provider.
 * Why not `AuthGuard('name')`: @nestjs/passport's AuthGuard always calls the process-wide
 * `passport.authenticate`, whose registry two app instances in one process would share (the
 * second's strategy for "google" replacing the first's, with the first's config and database).
 */
@Injectable()
export class OAuthStrategies implements OnModuleInit {
  readonly passport = new passport.Passport();

  constructor(
    private readonly providers: OAuthProvidersRegistry,
    private readonly flow: OAuthService,
  ) {}

  onModuleInit(): void {
    for (const { id } of this.providers.list()) {
      new OAuthCallbackStrategy({ provider: id, passport: this.passport, flow: this.flow });
    }
  }
}

/**
 * What passport's `authenticate` returns (typed `any` by @types/passport). Our strategy reports
 * failures as Errors (OAuthCallbackStrategy), and `next` is only reached through `pass()`.
 */
type PassportMiddleware = (request: unknown, response: unknown, next: (error?: Error) => void) => void;

/** Runs the provider's callback strategy; the outcome lands on `request.user`. */
@Injectable()
export class OAuthCallbackGuard implements CanActivate {
  constructor(
    private readonly strategies: OAuthStrategies,
    private readonly providers: OAuthProvidersRegistry,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<{ params?: Record<string, string>; user?: OAuthOutcome }>();
    const provider = this.providers.get(request.params?.provider ?? '').id;
    request.user = await new Promise<OAuthOutcome>((resolve, reject) => {
      const middleware = this.strategies.passport.authenticate(
        provider,
        { session: false },
        (error: Error | null, outcome: OAuthOutcome | false) => {
          if (error) reject(error);
          else if (outcome) resolve(outcome);
          else reject(new ApiError('oauth_error', 'The sign-in with the provider failed'));
        },
      ) as PassportMiddleware;
      middleware(request, http.getResponse(), (error?: Error) =>
        reject(error ?? new ApiError('oauth_error', 'The sign-in with the provider failed')),
      );
    });
    return true;
  }
}
