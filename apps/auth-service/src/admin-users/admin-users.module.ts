import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { AdminModule } from '../admin/admin.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AdminUsersController } from './admin-users.controller';
import { AdminUsersRepository } from './admin-users.repository';
import { AdminUsersService } from './admin-users.service';

/** The admin user routes (/admin/users…): search, disable and enable, roles, a user's sessions. */
@Module({
  imports: [AccessModule, AdminModule, UsersModule, SessionsModule],
  controllers: [AdminUsersController],
  providers: [AdminUsersRepository, AdminUsersService],
})
export class AdminUsersModule {}
