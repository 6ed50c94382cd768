import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { AccountDataModule } from '../account-data/account-data.module';
import { EventsModule } from '../events/events.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AccountDataController } from './account-data.controller';
import { EventsController } from './events.controller';
import { SessionsController } from './sessions.controller';
import { UsersController } from './users.controller';

/**
 * The signed-in caller's own account: profile (/users/me…) and sessions (/auth/sessions…). Apart
 * from users/ and sessions/ because access/ reads those two: their routes, which need access/,
 * would otherwise close an import cycle.
 */
@Module({
  imports: [AccessModule, UsersModule, SessionsModule, EventsModule, AccountDataModule],
  controllers: [UsersController, AccountDataController, SessionsController, EventsController],
})
export class AccountModule {}
