import { Module } from '@nestjs/common';
import { ProfilesRepository } from './profiles.repository';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({
  controllers: [UsersController],
  providers: [UsersRepository, ProfilesRepository, UsersService],
  exports: [UsersRepository, UsersService],
})
export class UsersModule {}
