import { Module } from '@nestjs/common';
import { CacheModule } from '@app/cache';
import { AccessModule } from '../access/access.module';
import { APP_CONFIG } from '../config/app-config';
import { EventsModule } from '../events/events.module';
import { SecretsModule } from '../secrets/secrets.module';
import { SessionsModule } from '../sessions/sessions.module';
import { SignInModule } from '../sign-in/sign-in.module';
import { UsersModule } from '../users/users.module';
import { oauthCacheEntities } from './oauth.cache';
import { OAuthController } from './oauth.controller';
import { OAuthMetrics } from './oauth.metrics';
import { OAuthRepository } from './oauth.repository';
import { OAuthService } from './oauth.service';
import { OAuthCallbackGuard, OAuthStrategies } from './passport/oauth-callback.guard';
import { OAuthProvidersRegistry } from './providers/oauth-providers.registry';
import { ProviderTokenCipher } from './provider-token.cipher';

/** Sign-in with OpenID Connect providers and GitHub; linking and unlinking provider accounts. */
@Module({
  imports: [
    AccessModule,
    UsersModule,
    SessionsModule,
    SecretsModule,
    SignInModule,
    EventsModule,
    CacheModule.forFeature({ inject: [APP_CONFIG], useFactory: oauthCacheEntities }),
  ],
  controllers: [OAuthController],
  providers: [
    OAuthProvidersRegistry,
    OAuthRepository,
    OAuthService,
    ProviderTokenCipher,
    OAuthStrategies,
    OAuthCallbackGuard,
    OAuthMetrics,
  ],
})
export class OAuthModule {}
