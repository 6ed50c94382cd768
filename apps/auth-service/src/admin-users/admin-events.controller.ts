import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import { Roles } from '../admin/roles.decorator';
import { RolesGuard } from '../admin/roles.guard';
import { ApiBearer, ApiErrors } from '../common/api-docs';
import { AdminEventsQueryDto, SecurityEventPageDto } from '../events/dto/events-query.dto';
import type { SecurityEventView } from '../events/event-types';
import { SecurityEvents } from '../events/security-events';

/** Every account's security log, for the `admin` role: newest first, by user and type. */
@ApiTags('admin')
@ApiBearer()
@ApiErrors('forbidden')
@UseGuards(BearerAuthGuard, RolesGuard)
@Roles('admin')
@Controller('admin/events')
export class AdminEventsController {
  constructor(private readonly events: SecurityEvents) {}

  @Get()
  @ApiOperation({ summary: 'Security events of every account' })
  @ApiOkResponse({ type: SecurityEventPageDto })
  @ApiErrors('validation_failed')
  list(
    @Query() query: AdminEventsQueryDto,
  ): Promise<{ items: SecurityEventView[]; nextCursor: string | null }> {
    return this.events.page(query);
  }
}
