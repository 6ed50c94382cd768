import { Body, Controller, Get, Patch, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import { CurrentPrincipal, Principal } from '../access/principal';
import { ApiBearer, ApiErrors } from '../common/api-docs';
import { ProfileDto, UpdateProfileDto } from '../users/dto/profile.dto';
import { PublicUserDto } from '../users/dto/public-user.dto';
import { UpdateUserDto } from '../users/dto/update-user.dto';
import { ProfileView } from '../users/profiles.repository';
import { PublicUser } from '../users/public-user';
import { UsersService } from '../users/users.service';

@ApiTags('users')
@ApiBearer()
@UseGuards(BearerAuthGuard)
@Controller('users/me')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Patch()
  @ApiOperation({ summary: "Update the caller's user" })
  @ApiOkResponse({ type: PublicUserDto })
  @ApiErrors('validation_failed')
  updateMe(@CurrentPrincipal() principal: Principal, @Body() body: UpdateUserDto): Promise<PublicUser> {
    return this.users.updateMe(principal.userId, body);
  }

  @Get('profile')
  @ApiOperation({ summary: "The caller's profile" })
  @ApiOkResponse({ type: ProfileDto })
  getProfile(@CurrentPrincipal() principal: Principal): Promise<ProfileView> {
    return this.users.getProfile(principal.userId);
  }

  @Patch('profile')
  @ApiOperation({ summary: "Update the caller's profile" })
  @ApiOkResponse({ type: ProfileDto })
  @ApiErrors('validation_failed')
  updateProfile(
    @CurrentPrincipal() principal: Principal,
    @Body() body: UpdateProfileDto,
  ): Promise<ProfileView> {
    return this.users.updateProfile(principal.userId, body);
  }
}
