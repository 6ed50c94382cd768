import { ApiProperty } from '@nestjs/swagger';
import { SecurityEventDto } from '../../events/dto/events-query.dto';
import { OAuthAccountDto } from '../../oauth/dto/oauth.dto';
import { ProfileDto } from '../../users/dto/profile.dto';
import { PublicUserDto } from '../../users/dto/public-user.dto';

export class ExportedUserDto extends PublicUserDto {
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) disabledAt!: Date | null;
  @ApiProperty({ description: 'Whether the account has a password (never the password or its hash)' })
  hasPassword!: boolean;
}

export class ExportedSessionDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) lastSeenAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) expiresAt!: Date;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt!: Date | null;
  @ApiProperty({ type: String, nullable: true }) revokedReason!: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent!: string | null;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
}

export class ExportedPasskeyDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastUsedAt!: Date | null;
  @ApiProperty({ enum: ['singleDevice', 'multiDevice'] }) deviceType!: string;
  @ApiProperty({ description: 'Whether the authenticator says the passkey is backed up (synced)' })
  backedUp!: boolean;
}

/** GET /users/me/export: everything held about the caller, no secret. */
export class AccountExportDto {
  @ApiProperty({ type: String, format: 'date-time' }) exportedAt!: Date;
  @ApiProperty({ type: ExportedUserDto }) user!: ExportedUserDto;
  @ApiProperty({ type: ProfileDto, nullable: true }) profile!: ProfileDto | null;
  @ApiProperty({ type: [ExportedSessionDto], description: 'Every session, active or ended' })
  sessions!: ExportedSessionDto[];
  @ApiProperty({ type: [OAuthAccountDto], description: 'Without provider tokens' })
  oauthAccounts!: OAuthAccountDto[];
  @ApiProperty({ type: [ExportedPasskeyDto], description: 'Without their keys or credential ids' })
  passkeys!: ExportedPasskeyDto[];
  @ApiProperty({ type: [SecurityEventDto], description: 'Oldest first' })
  securityEvents!: SecurityEventDto[];
}
