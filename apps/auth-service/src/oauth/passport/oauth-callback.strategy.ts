import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy } from 'passport-strategy';
import type { IncomingHttpHeaders } from 'node:http';
import { clientInfo } from '../../sessions/client-info';
import { readBinding } from '../oauth-binding';
import type { OAuthOutcome, OAuthService, VerifiedCallback } from '../oauth.service';

type Verify = (callback: VerifiedCallback, done: (error: unknown, outcome?: OAuthOutcome) => void) => void;

interface StrategyOptions {
  /** The provider id: the strategy's name in its Passport instance. */
  provider: string;
  /** The app instance's own Passport (see OAuthStrategies): never the process-wide singleton. */
  passport: passport.Authenticator;
  flow: OAuthService;
}

/**
 * A Passport strategy for the callback half of the flow: `authenticate()` spends the state and
 * has the provider client verify the answer, then hands the identity to `validate()`.
 */
class OAuthCallbackBase extends Strategy {
  readonly name: string;
  protected readonly options: StrategyOptions;
  private readonly verify: Verify;

  constructor(options: StrategyOptions, verify: Verify) {
    super();
    this.options = options;
    this.verify = verify;
    this.name = options.provider;
  }

  override authenticate(request: { query?: unknown; ip?: string; headers: IncomingHttpHeaders }): void {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const binding = readBinding(request, this.options.flow.cookieSecure);
    this.options.flow
      .verifyCallback(this.options.provider, query, binding)
      .then((callback) =>
        this.verify({ ...callback, client: clientInfo(request) }, (error, outcome) =>
          error || !outcome ? this.error(error as Error) : this.success(outcome),
        ),
      )
      .catch((error: Error) => this.error(error));
  }
}

/**
 * The strategy as @nestjs/passport wires it: the mixin turns `validate()` into Passport's verify
 * callback and registers the strategy. It registers into `getPassportInstance()`, which here is
 * the app instance's own `Authenticator`, so two service instances in one process (as the tests
 * run them) never replace each other's strategies in Passport's global registry.
 */
export class OAuthCallbackStrategy extends PassportStrategy(OAuthCallbackBase) {
  constructor(options: StrategyOptions) {
    super(options);
  }

  validate(callback: VerifiedCallback): Promise<OAuthOutcome> {
    return this.options.flow.resolveAccount(callback);
  }

  /** Read by the mixin's constructor (declared in its JavaScript, not in its types). */
  getPassportInstance(): passport.PassportStatic {
    return this.options.passport as passport.PassportStatic;
  }
}
