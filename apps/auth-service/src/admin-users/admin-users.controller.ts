import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Put,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import type { Principal } from '../access/principal';
import { clientInfo } from '../sessions/client-info';
import { Roles } from '../admin/roles.decorator';
import { RolesGuard } from '../admin/roles.guard';
import { ApiBearer, ApiErrors } from '../common/api-docs';
import { SessionDto } from '../sessions/session.dto';
import { SessionListItem } from '../sessions/sessions.service';
import { Actor, AdminUser, AdminUserPage, AdminUsersService, userNotFound } from './admin-users.service';
import { AdminUserDto, AdminUserPageDto, ListUsersQueryDto, SetRolesDto } from './dto/admin-users.dto';

type AdminRequest = FastifyRequest & { user: Principal };

const actorOf = (req: AdminRequest): Actor => ({ adminId: req.user.userId, client: clientInfo(req) });

/** A malformed id names no user: the same 404 as an unknown one. */
const userId = () => new ParseUUIDPipe({ exceptionFactory: userNotFound });

/** User management for the `admin` role (401 anonymous, 403 `forbidden` for everyone else). */
@ApiTags('admin')
@ApiBearer()
@ApiErrors('forbidden')
@UseGuards(BearerAuthGuard, RolesGuard)
@Roles('admin')
@Controller('admin/users')
export class AdminUsersController {
  constructor(private readonly users: AdminUsersService) {}

  @Get()
  @ApiOperation({ summary: 'Search users' })
  @ApiOkResponse({ type: AdminUserPageDto, description: 'Newest first' })
  @ApiErrors('validation_failed')
  list(@Query() query: ListUsersQueryDto): Promise<AdminUserPage> {
    return this.users.list({
      query: query.query?.trim() || undefined,
      limit: query.limit ?? 50,
      cursor: query.cursor,
    });
  }

  @Get(':id')
  @ApiOperation({ summary: 'A user, with admin details' })
  @ApiOkResponse({ type: AdminUserDto })
  @ApiErrors('user_not_found')
  get(@Param('id', userId()) id: string): Promise<AdminUser> {
    return this.users.get(id);
  }

  @Post(':id/disable')
  @ApiOperation({ summary: 'Disable a user and revoke their sessions' })
  @HttpCode(204)
  @ApiNoContentResponse({
    description: 'Every session revoked at once; every way in answers 403 account_disabled',
  })
  @ApiErrors('user_not_found')
  disable(@Param('id', userId()) id: string, @Req() req: AdminRequest): Promise<void> {
    return this.users.disable(id, actorOf(req));
  }

  @Post(':id/enable')
  @ApiOperation({ summary: 'Enable a user' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The account may sign in again' })
  @ApiErrors('user_not_found')
  enable(@Param('id', userId()) id: string, @Req() req: AdminRequest): Promise<void> {
    return this.users.enable(id, actorOf(req));
  }

  @Put(':id/roles')
  @ApiOperation({ summary: "Replace a user's roles" })
  @ApiOkResponse({
    type: AdminUserDto,
    description: 'Shown at once by /auth/me and introspection; removing a role revokes every session',
  })
  @ApiErrors('validation_failed', 'user_not_found')
  setRoles(
    @Param('id', userId()) id: string,
    @Body() body: SetRolesDto,
    @Req() req: AdminRequest,
  ): Promise<AdminUser> {
    return this.users.setRoles(id, body.roles, actorOf(req));
  }

  @Get(':id/sessions')
  @ApiOperation({ summary: "A user's sessions" })
  @ApiOkResponse({ type: [SessionDto], description: "The user's active sessions" })
  @ApiErrors('user_not_found')
  sessions(@Param('id', userId()) id: string): Promise<SessionListItem[]> {
    return this.users.listSessions(id);
  }

  @Delete(':id/sessions')
  @ApiOperation({ summary: 'Revoke every session of a user' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Every session of the user revoked' })
  @ApiErrors('user_not_found')
  revokeSessions(@Param('id', userId()) id: string): Promise<void> {
    return this.users.revokeSessions(id);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Delete a user and everything held about them' })
  @HttpCode(204)
  @ApiNoContentResponse({
    description: 'Deleted as DELETE /users/me does: sessions revoked everywhere, cache entries gone',
  })
  @ApiErrors('user_not_found')
  remove(@Param('id', userId()) id: string, @Req() req: AdminRequest): Promise<void> {
    return this.users.delete(id, actorOf(req));
  }
}
