import { Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, UseGuards } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import { CurrentPrincipal, Principal } from '../access/principal';
import { ApiError } from '../common/api-error';
import { ApiBearer, ApiErrors } from '../common/api-docs';
import { SessionListItem, SessionsService } from '../sessions/sessions.service';

function notFound(): ApiError {
  return new ApiError('session_not_found', 'No such session');
}

class SessionDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) lastSeenAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) expiresAt!: Date;
  @ApiProperty({ type: String, nullable: true }) userAgent!: string | null;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ description: 'The session of the token making this request' }) current!: boolean;
}

@ApiTags('sessions')
@ApiBearer()
@UseGuards(BearerAuthGuard)
@Controller('auth/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  @ApiOkResponse({ type: [SessionDto], description: 'Active sessions only' })
  list(@CurrentPrincipal() principal: Principal): Promise<SessionListItem[]> {
    return this.sessions.listActive(principal.userId, principal.sessionId);
  }

  // A malformed id cannot name one of the caller's sessions: same answer as an unknown one.
  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'That session is revoked' })
  @ApiErrors('session_not_found')
  remove(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseUUIDPipe({ exceptionFactory: notFound })) id: string,
  ): Promise<void> {
    return this.sessions.revokeOwn(principal.userId, id);
  }
}
