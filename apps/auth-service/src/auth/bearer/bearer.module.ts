import { Global, Module } from '@nestjs/common';
import { SessionActivity } from '../../sessions/session-activity';
import { SessionsModule } from '../../sessions/sessions.module';
import { TokensModule } from '../../tokens/tokens.module';
import { AccessTokenValidator } from './access-token.validator';
import { BEARER_ACTIVITY } from './bearer-activity';
import { BearerAuthGuard } from './bearer-auth.guard';

/** Global so that every feature module's controllers can use the guard without import cycles. */
@Global()
@Module({
  imports: [SessionsModule, TokensModule],
  providers: [
    AccessTokenValidator,
    BearerAuthGuard,
    // The guard records session activity; modules that put the guard on a route resolve it here.
    { provide: BEARER_ACTIVITY, useExisting: SessionActivity },
  ],
  exports: [AccessTokenValidator, BearerAuthGuard, BEARER_ACTIVITY],
})
export class BearerModule {}
