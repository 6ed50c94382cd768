import { Controller, Get, Header, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { DatabaseHealthIndicator } from './database.health';
import { LivenessDto } from './dto/liveness.dto';
import { RedisHealthIndicator } from './redis.health';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process runs' })
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: LivenessDto, description: 'The process is running' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Ready when PostgreSQL answers. Redis is reported but optional: `down` in the body, still 200.
   */
  @Get('ready')
  @ApiOperation({ summary: 'Readiness: PostgreSQL answers' })
  @HealthCheck()
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ description: 'PostgreSQL answers (Redis status reported in the body)' })
  @ApiServiceUnavailableResponse({ description: 'PostgreSQL is unreachable' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    const [database, redis] = await Promise.all([this.database.check(), this.redis.check()]);
    let result: HealthCheckResult;
    try {
      result = await this.health.check([() => database]);
    } catch {
      reply.status(HttpStatus.SERVICE_UNAVAILABLE);
      result = { status: 'error', info: {}, error: database, details: database };
    }
    return {
      ...result,
      info: { ...result.info, ...(redis.redis.status === 'up' ? redis : {}) },
      details: { ...result.details, ...redis },
    };
  }
}
