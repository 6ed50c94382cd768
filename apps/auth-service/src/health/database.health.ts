import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { PrismaService } from '@app/database';

@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly prisma: PrismaService,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(key = 'database'): Promise<HealthIndicatorResult> {
    const session = this.indicators.check(key);
    return (await this.prisma.ping(2_000))
      ? session.up()
      : session.down({ message: 'PostgreSQL is unreachable' });
  }
}
