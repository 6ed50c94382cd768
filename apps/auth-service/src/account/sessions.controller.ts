import { Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import { CurrentPrincipal, Principal } from '../access/principal';
import { clientInfo } from '../sessions/client-info';
import { ApiError } from '../common/api-error';
import { ApiBearer, ApiErrors } from '../common/api-docs';
import { SessionDto } from '../sessions/session.dto';
import { SessionListItem, SessionsService } from '../sessions/sessions.service';

function notFound(): ApiError {
  return new ApiError('session_not_found', 'No such session');
}

@ApiTags('sessions')
@ApiBearer()
@UseGuards(BearerAuthGuard)
@Controller('auth/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  @ApiOperation({ summary: "List the caller's active sessions" })
  @ApiOkResponse({ type: [SessionDto], description: 'Active sessions only' })
  list(@CurrentPrincipal() principal: Principal): Promise<SessionListItem[]> {
    return this.sessions.listActive(principal.userId, principal.sessionId);
  }

  // A malformed id cannot name one of the caller's sessions: same answer as an unknown one.
  @Delete(':id')
  @ApiOperation({ summary: "Revoke one of the caller's sessions" })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'That session is revoked' })
  @ApiErrors('session_not_found')
  remove(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseUUIDPipe({ exceptionFactory: notFound })) id: string,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    return this.sessions.revokeOwn(principal.userId, id, clientInfo(req));
  }
}
