import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { RedisService } from '@app/redis';

/** Reports Redis; the readiness route decides that `down` here does not fail the probe. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly redis: RedisService,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(): Promise<HealthIndicatorResult<'redis'>> {
    const session = this.indicators.check('redis');
    if (!this.redis.configured)
      return session.up({
        configured: false,
        message: 'no Redis configured (REDIS_URL, or REDIS_MODE with its nodes): in-process cache only',
      });
    return (await this.redis.ping(1_000))
      ? session.up({ configured: true })
      : session.down({ configured: true, optional: true });
  }
}
