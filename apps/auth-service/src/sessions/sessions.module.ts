import { Module } from '@nestjs/common';
import { TokensModule } from '../tokens/tokens.module';
import { UsersModule } from '../users/users.module';
import { SessionsController } from './sessions.controller';
import { SessionActivity } from './session-activity';
import { SessionStateCache } from './session-state.cache';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

@Module({
  imports: [UsersModule, TokensModule],
  controllers: [SessionsController],
  providers: [SessionsRepository, SessionsService, SessionStateCache, SessionActivity],
  exports: [SessionsRepository, SessionsService, SessionStateCache, SessionActivity],
})
export class SessionsModule {}
