import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { AccountDataModule } from '../account-data/account-data.module';
import { AdminModule } from '../admin/admin.module';
import { EventsModule } from '../events/events.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AdminEventsController } from './admin-events.controller';
import { AdminUsersController } from './admin-users.controller';
import { AdminUsersRepository } from './admin-users.repository';
import { AdminUsersService } from './admin-users.service';

/** The admin user routes (/admin/users…): search, disable and enable, roles, a user's sessions, deletion. */
@Module({
  imports: [AccessModule, AccountDataModule, AdminModule, UsersModule, SessionsModule, EventsModule],
  controllers: [AdminUsersController, AdminEventsController],
  providers: [AdminUsersRepository, AdminUsersService],
})
export class AdminUsersModule {}
