import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  UseGuards,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard } from '../access/bearer-auth.guard';
import { ApiError } from '../common/api-error';
import { ApiBearer, ApiErrors } from '../common/api-docs';
import { PublicUser } from '../users/public-user';
import { CacheAdminService, CacheStats } from './cache-admin.service';
import { CacheConsistencyService, ConsistencyResult } from './cache-consistency.service';
import { CacheHealth, CacheHealthService } from './cache-health.service';
import { CacheWarmer } from './cache-warmer.service';
import { BulkSyncDto, InvalidateTagDto } from './dto/admin.dto';
import { Roles } from './roles.decorator';
import { RolesGuard } from './roles.guard';

const userId = () => new ParseUUIDPipe({ exceptionFactory: () => new ApiError('not_found', 'No such user') });

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
  @ApiOkResponse({ description: '{enabled, l1, l2, hitRate, errors, circuit} of this instance' })
  stats(): Promise<CacheStats> {
    return this.admin.stats();
  }

  @Get('health')
  @ApiOperation({ summary: 'Cache health against its thresholds' })
  @ApiOkResponse({ description: '{status, checks, thresholds}' })
  cacheHealth(): Promise<CacheHealth> {
    return this.health.check();
  }

  @Get('users/:id')
  @ApiOperation({ summary: "Inspect a user's cache entry" })
  @ApiOkResponse({ description: '{cached, data?}' })
  inspect(@Param('id', userId()) id: string): Promise<{ cached: boolean; data?: PublicUser }> {
    return this.admin.inspectUser(id);
  }

  @Delete('users/:id')
  @ApiOperation({ summary: "Evict a user's cache entries on every instance" })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Every cache entry of the user evicted, on every instance' })
  evict(@Param('id', userId()) id: string): Promise<void> {
    return this.admin.evictUser(id);
  }

  @Post('users/:id/validate')
  @ApiOperation({ summary: "Compare a user's cache entry with the database and repair drift" })
  @HttpCode(200)
  @ApiOkResponse({ description: '{consistent, fixed, differences}' })
  validate(@Param('id', userId()) id: string): Promise<ConsistencyResult> {
    return this.consistency.validateUser(id);
  }

  @Post('users/:id/sync')
  @ApiOperation({ summary: 'Reload a user from the database into the cache' })
  @HttpCode(200)
  @ApiOkResponse({ description: 'The user re-read from the database into the cache' })
  @ApiErrors('not_found')
  sync(@Param('id', userId()) id: string): Promise<PublicUser> {
    return this.admin.syncUser(id);
  }

  @Post('bulk-sync')
  @ApiOperation({ summary: 'Reload up to 1000 users into the cache' })
  @HttpCode(200)
  @ApiOkResponse({ description: '{succeeded, failed, total}' })
  bulkSync(@Body() body: BulkSyncDto): Promise<{ succeeded: number; failed: number; total: number }> {
    return this.admin.bulkSync(body.userIds);
  }

  @Post('warm')
  @ApiOperation({ summary: 'Start warming the cache' })
  @HttpCode(202)
  @ApiAcceptedResponse({ description: '{started: true}; progress in logs and metrics' })
  warm(): { started: true } {
    void this.warmer.start('admin').catch(() => undefined);
    return { started: true };
  }

  @Post('invalidate')
  @ApiOperation({ summary: 'Invalidate the cache entries of a tag' })
  @HttpCode(200)
  @ApiOkResponse({ description: '{invalidated: n}' })
  invalidate(@Body() body: InvalidateTagDto): Promise<{ invalidated: number }> {
    return this.admin.invalidateTag(body.tag);
  }
}
