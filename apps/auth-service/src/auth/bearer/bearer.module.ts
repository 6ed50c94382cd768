import { Global, Module } from '@nestjs/common';
import { SessionsModule } from '../../sessions/sessions.module';
import { TokensModule } from '../../tokens/tokens.module';
import { AccessTokenValidator } from './access-token.validator';
import { BearerAuthGuard } from './bearer-auth.guard';

/** Global so that every feature module's controllers can use the guard without import cycles. */
@Global()
@Module({
  imports: [SessionsModule, TokensModule],
  providers: [AccessTokenValidator, BearerAuthGuard],
  exports: [AccessTokenValidator, BearerAuthGuard],
})
export class BearerModule {}
