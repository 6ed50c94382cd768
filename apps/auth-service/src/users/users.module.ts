import { Module } from '@nestjs/common';
import { CacheModule } from '@app/cache';
import { APP_CONFIG } from '../config/app-config';
import { EventsModule } from '../events/events.module';
import { ProfilesRepository } from './profiles.repository';
import { usersCacheEntities } from './users.cache';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({
  imports: [EventsModule, CacheModule.forFeature({ inject: [APP_CONFIG], useFactory: usersCacheEntities })],
  providers: [UsersRepository, ProfilesRepository, UsersService],
  exports: [UsersRepository, UsersService],
})
export class UsersModule {}
