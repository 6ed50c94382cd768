import { Module } from '@nestjs/common';
import { CacheModule } from '@app/cache';
import { APP_CONFIG } from '../config/app-config';
import { EventsModule } from '../events/events.module';
import { TokensModule } from '../tokens/tokens.module';
import { UsersModule } from '../users/users.module';
import { SessionActivity } from './session-activity';
import { RevocationFollower } from './revocation-follower';
import { RevocationLog } from './revocation-log';
import { RevokedSessions } from './revoked-sessions';
import { REVOCATION_LISTENERS, RevocationListener, SessionRevoker } from './session-revoker';
import { sessionsCacheEntities, SessionStateCache } from './session-state.cache';
import { SessionsMetrics } from './sessions.metrics';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

/**
 * Sessions: their rows and cache entries, rotation, revocation (SessionRevoker only, with the
 * revocation log every instance follows) and activity.
 */
@Module({
  imports: [
    UsersModule,
    TokensModule,
    EventsModule,
    CacheModule.forFeature({ inject: [APP_CONFIG], useFactory: sessionsCacheEntities }),
  ],
  providers: [
    SessionsRepository,
    SessionsService,
    SessionStateCache,
    SessionActivity,
    SessionRevoker,
    RevocationLog,
    RevokedSessions,
    RevocationFollower,
    SessionsMetrics,
    // Told of every committed revocation, in this order.
    {
      provide: REVOCATION_LISTENERS,
      useFactory: (metrics: SessionsMetrics): RevocationListener[] => [metrics],
      inject: [SessionsMetrics],
    },
  ],
  exports: [
    SessionsRepository,
    SessionsService,
    SessionActivity,
    SessionRevoker,
    RevokedSessions,
    RevocationLog,
    RevocationFollower,
  ],
})
export class SessionsModule {}
