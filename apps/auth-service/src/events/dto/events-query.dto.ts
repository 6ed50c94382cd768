import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { SECURITY_EVENT_TYPES, type SecurityEventType } from '../event-types';
import { PageQueryDto } from '../../common/page-query.dto';

export class EventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: SECURITY_EVENT_TYPES })
  @IsOptional()
  @IsIn(SECURITY_EVENT_TYPES)
  type?: SecurityEventType;
}

export class AdminEventsQueryDto extends EventsQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('all')
  userId?: string;
}

export class SecurityEventDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: SECURITY_EVENT_TYPES }) type!: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) userId!: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) sessionId!: string | null;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent!: string | null;
  @ApiProperty({ type: Object, description: 'Type-specific; never a secret, a token or a password' })
  details!: unknown;
}

export class SecurityEventPageDto {
  @ApiProperty({ type: [SecurityEventDto] }) items!: SecurityEventDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}
