import { Module } from '@nestjs/common';
import { SessionActivity } from '../sessions/session-activity';
import { SessionsModule } from '../sessions/sessions.module';
import { TokensModule } from '../tokens/tokens.module';
import { AccessTokenValidator } from './access-token.validator';
import { BEARER_ACTIVITY } from './bearer-activity';
import { BearerAuthGuard } from './bearer-auth.guard';

/**
 * Access checking: is this bearer token good now (signature, claims, active session)? Every
 * module whose routes carry BearerAuthGuard, or that validates tokens, imports it.
 */
@Module({
  imports: [SessionsModule, TokensModule],
  providers: [
    AccessTokenValidator,
    BearerAuthGuard,
    // Nest builds a route's guard in the route's module: that module resolves the guard's
    // dependencies from AccessModule's exports, this alias of SessionActivity included.
    { provide: BEARER_ACTIVITY, useExisting: SessionActivity },
  ],
  exports: [AccessTokenValidator, BearerAuthGuard, BEARER_ACTIVITY],
})
export class AccessModule {}
