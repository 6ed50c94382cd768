import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUrl, MaxLength, ValidateIf } from 'class-validator';
import { IsBcp47Locale, IsIanaTimeZone } from './locale-validators';

const nullable = ValidateIf((_o, v) => v !== null);

export class UpdateProfileDto {
  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 500 })
  @IsOptional()
  @nullable
  @IsString()
  @MaxLength(500)
  bio?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, format: 'uri', description: 'https only' })
  @IsOptional()
  @nullable
  @IsString()
  @MaxLength(2048)
  @IsUrl(
    { protocols: ['https'], require_protocol: true, require_tld: false },
    { message: 'avatarUrl must be an https URL' },
  )
  avatarUrl?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'en-GB', description: 'BCP 47 language tag' })
  @IsOptional()
  @nullable
  @IsString()
  @MaxLength(35)
  @IsBcp47Locale()
  locale?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'Europe/Paris',
    description: 'IANA time zone',
  })
  @IsOptional()
  @nullable
  @IsString()
  @MaxLength(64)
  @IsIanaTimeZone()
  timezone?: string | null;
}

export class ProfileDto {
  @ApiProperty({ type: String, nullable: true }) bio!: string | null;
  @ApiProperty({ type: String, nullable: true }) avatarUrl!: string | null;
  @ApiProperty({ type: String, nullable: true }) locale!: string | null;
  @ApiProperty({ type: String, nullable: true }) timezone!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) updatedAt!: Date | null;
}
