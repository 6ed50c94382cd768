import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import { CurrentPrincipal, Principal } from '../access/principal';
import { ApiBearer, ApiErrors } from '../common/api-docs';
import { EventsQueryDto, SecurityEventPageDto } from '../events/dto/events-query.dto';
import type { SecurityEventView } from '../events/event-types';
import { SecurityEvents } from '../events/security-events';

/** The caller's own security log: newest first, cursor pages, filterable by type. */
@ApiTags('events')
@ApiBearer()
@UseGuards(BearerAuthGuard)
@Controller('auth/events')
export class EventsController {
  constructor(private readonly events: SecurityEvents) {}

  @Get()
  @ApiOperation({ summary: "The caller's security events" })
  @ApiOkResponse({ type: SecurityEventPageDto })
  @ApiErrors('validation_failed')
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: EventsQueryDto,
  ): Promise<{ items: SecurityEventView[]; nextCursor: string | null }> {
    return this.events.page({ ...query, userId: principal.userId });
  }
}
