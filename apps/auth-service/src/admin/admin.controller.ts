import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Req,
  UseGuards,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import type { Principal } from '../access/principal';
import { clientInfo } from '../sessions/client-info';
import { ApiError } from '../common/api-error';
import { ApiBearer, ApiErrors } from '../common/api-docs';
import { PublicUser } from '../users/public-user';
import { CacheAdminService, CacheStats, Operator } from './cache-admin.service';
import { CacheConsistencyService, ConsistencyResult } from './cache-consistency.service';
import { CacheHealth, CacheHealthService } from './cache-health.service';
import { CacheWarmer } from './cache-warmer.service';
import { BulkSyncDto, InvalidateTagDto } from './dto/admin.dto';
import {
  BulkSyncResultDto,
  CacheEntryDto,
  CacheHealthDto,
  CacheStatsDto,
  ConsistencyResultDto,
  InvalidatedDto,
  WarmStartedDto,
} from './dto/admin-responses.dto';
import { PublicUserDto } from '../users/dto/public-user.dto';
import { Roles } from './roles.decorator';
import { RolesGuard } from './roles.guard';

const userId = () => new ParseUUIDPipe({ exceptionFactory: () => new ApiError('not_found', 'No such user') });

type AdminRequest = FastifyRequest & { user: Principal };

/** The admin acting and from where: the security event of the operation says who. */
const operatorOf = (req: AdminRequest): Operator => ({ adminId: req.user.userId, client: clientInfo(req) });

/** Cache operations for the `admin` role (401 anonymous, 403 `forbidden` for everyone else). */
@ApiTags('admin')
@ApiBearer()
@ApiErrors('forbidden')
@UseGuards(BearerAuthGuard, RolesGuard)
@Roles('admin')
@Controller('admin/cache')
export class AdminCacheController {
  constructor(
    private readonly admin: CacheAdminService,
    private readonly health: CacheHealthService,
    private readonly consistency: CacheConsistencyService,
    private readonly warmer: CacheWarmer,
  ) {}

  @Get('stats')
  @ApiOperation({ summary: 'Cache statistics' })
  @ApiOkResponse({ type: CacheStatsDto, description: "This instance's cache" })
  stats(): Promise<CacheStats> {
    return this.admin.stats();
  }

  @Get('health')
  @ApiOperation({ summary: 'Cache health against its thresholds' })
  @ApiOkResponse({ type: CacheHealthDto })
  cacheHealth(): Promise<CacheHealth> {
    return this.health.check();
  }

  @Get('users/:id')
  @ApiOperation({ summary: "Inspect a user's cache entry" })
  @ApiOkResponse({ type: CacheEntryDto })
  inspect(@Param('id', userId()) id: string): Promise<{ cached: boolean; data?: PublicUser }> {
    return this.admin.inspectUser(id);
  }

  @Delete('users/:id')
  @ApiOperation({ summary: "Evict a user's cache entries on every instance" })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Every cache entry of the user evicted, on every instance' })
  evict(@Param('id', userId()) id: string, @Req() req: AdminRequest): Promise<void> {
    return this.admin.evictUser(id, operatorOf(req));
  }

  @Post('users/:id/validate')
  @ApiOperation({ summary: "Compare a user's cache entry with the database and repair drift" })
  @HttpCode(200)
  @ApiOkResponse({ type: ConsistencyResultDto })
  validate(@Param('id', userId()) id: string): Promise<ConsistencyResult> {
    return this.consistency.validateUser(id);
  }

  @Post('users/:id/sync')
  @ApiOperation({ summary: 'Reload a user from the database into the cache' })
  @HttpCode(200)
  @ApiOkResponse({ type: PublicUserDto, description: 'The user re-read from the database into the cache' })
  @ApiErrors('not_found')
  sync(@Param('id', userId()) id: string): Promise<PublicUser> {
    return this.admin.syncUser(id);
  }

  @Post('bulk-sync')
  @ApiOperation({ summary: 'Reload up to 1000 users into the cache' })
  @HttpCode(200)
  @ApiOkResponse({ type: BulkSyncResultDto })
  bulkSync(@Body() body: BulkSyncDto): Promise<{ succeeded: number; failed: number; total: number }> {
    return this.admin.bulkSync(body.userIds);
  }

  @Post('warm')
  @ApiOperation({ summary: 'Start warming the cache' })
  @HttpCode(202)
  @ApiAcceptedResponse({ type: WarmStartedDto, description: 'Started; progress in logs and metrics' })
  warm(): { started: true } {
    void this.warmer.start('admin').catch(() => undefined);
    return { started: true };
  }

  @Post('invalidate')
  @ApiOperation({ summary: 'Invalidate the cache entries of a tag' })
  @HttpCode(200)
  @ApiOkResponse({ type: InvalidatedDto })
  invalidate(@Body() body: InvalidateTagDto, @Req() req: AdminRequest): Promise<{ invalidated: number }> {
    return this.admin.invalidateTag(body.tag, operatorOf(req));
  }
}
