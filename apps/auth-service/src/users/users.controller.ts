import { Body, Controller, Get, Patch, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { BearerAuthGuard } from '../auth/bearer/bearer-auth.guard';
import { CurrentPrincipal, Principal } from '../auth/bearer/principal';
import { ApiBearer, ApiErrors } from '../common/api-docs';
import { ProfileDto, UpdateProfileDto } from './dto/profile.dto';
import { PublicUserDto } from './dto/public-user.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { ProfileView } from './profiles.repository';
import { PublicUser } from './public-user';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiBearer()
@UseGuards(BearerAuthGuard)
@Controller('users/me')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Patch()
  @ApiOkResponse({ type: PublicUserDto })
  @ApiErrors('validation_failed')
  updateMe(@CurrentPrincipal() principal: Principal, @Body() body: UpdateUserDto): Promise<PublicUser> {
    return this.users.updateMe(principal.userId, body);
  }

  @Get('profile')
  @ApiOkResponse({ type: ProfileDto })
  getProfile(@CurrentPrincipal() principal: Principal): Promise<ProfileView> {
    return this.users.getProfile(principal.userId);
  }

  @Patch('profile')
  @ApiOkResponse({ type: ProfileDto })
  @ApiErrors('validation_failed')
  updateProfile(
    @CurrentPrincipal() principal: Principal,
    @Body() body: UpdateProfileDto,
  ): Promise<ProfileView> {
    return this.users.updateProfile(principal.userId, body);
  }
}
