import { Module } from '@nestjs/common';
import { ProfilesRepository } from './profiles.repository';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({
  providers: [UsersRepository, ProfilesRepository, UsersService],
  exports: [UsersRepository, UsersService],
})
export class UsersModule {}
