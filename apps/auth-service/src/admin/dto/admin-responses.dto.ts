import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PublicUserDto } from '../../users/dto/public-user.dto';

/*
 * The answers of the admin cache routes, for the OpenAPI document (the services return the
 * matching interfaces: CacheStats, CacheHealth, ConsistencyResult).
 */

class L1StatsDto {
  @ApiProperty() entries!: number;
  @ApiProperty() hits!: number;
  @ApiProperty() misses!: number;
}

class L2StatsDto {
  @ApiProperty() connected!: boolean;
  @ApiProperty({ type: Number, nullable: true, description: 'null without Redis' }) keys!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'null without Redis' }) memoryBytes!:
    number | null;
  @ApiProperty() hits!: number;
  @ApiProperty() misses!: number;
}

export class CacheStatsDto {
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ type: L1StatsDto }) l1!: L1StatsDto;
  @ApiProperty({ type: L2StatsDto }) l2!: L2StatsDto;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Percent of lookups a tier answered; null before any',
  })
  hitRate!: number | null;
  @ApiProperty() errors!: number;
  @ApiProperty({ description: 'The Redis circuit: closed, open or half-open' }) circuit!: string;
}

class HealthCheckDto {
  @ApiProperty({ type: Number, nullable: true, description: 'null while there is nothing to measure' })
  value!: number | null;
  @ApiProperty({ enum: ['ok', 'warning', 'critical'] }) status!: string;
}

class HealthChecksDto {
  @ApiProperty({ type: HealthCheckDto }) hitRate!: HealthCheckDto;
  @ApiProperty({ type: HealthCheckDto }) errorRate!: HealthCheckDto;
  @ApiProperty({ type: HealthCheckDto }) latencyMs!: HealthCheckDto;
  @ApiProperty({ type: HealthCheckDto }) memoryUsage!: HealthCheckDto;
}

class ThresholdDto {
  @ApiProperty() warning!: number;
  @ApiProperty() critical!: number;
}

class HealthThresholdsDto {
  @ApiProperty({ type: ThresholdDto }) hitRate!: ThresholdDto;
  @ApiProperty({ type: ThresholdDto }) errorRate!: ThresholdDto;
  @ApiProperty({ type: ThresholdDto }) latencyMs!: ThresholdDto;
  @ApiProperty({ type: ThresholdDto }) memoryUsage!: ThresholdDto;
}

export class CacheHealthDto {
  @ApiProperty({ enum: ['healthy', 'degraded', 'critical'] }) status!: string;
  @ApiProperty({ type: HealthChecksDto }) checks!: HealthChecksDto;
  @ApiProperty({ type: HealthThresholdsDto }) thresholds!: HealthThresholdsDto;
}

export class CacheEntryDto {
  @ApiProperty({ description: "Whether the user's entry is in the cache" }) cached!: boolean;
  @ApiPropertyOptional({ type: PublicUserDto, description: 'The cached user, when cached' })
  data?: PublicUserDto;
}

export class ConsistencyResultDto {
  @ApiProperty() consistent!: boolean;
  @ApiProperty({ description: 'Whether the entry was rewritten from the row' }) fixed!: boolean;
  @ApiProperty({ type: [String], description: 'Names of the fields that differed (never values)' })
  differences!: string[];
}

export class BulkSyncResultDto {
  @ApiProperty() succeeded!: number;
  @ApiProperty() failed!: number;
  @ApiProperty() total!: number;
}

export class WarmStartedDto {
  @ApiProperty({ enum: [true] }) started!: true;
}

export class InvalidatedDto {
  @ApiProperty({ description: 'Entries invalidated' }) invalidated!: number;
}
