import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** RFC 7662's answer: `{active:false}` for anything but a valid, unrevoked access token. */
export class IntrospectionResponseDto {
  @ApiProperty() active!: boolean;
  @ApiPropertyOptional({ description: 'User id (active only)' }) sub?: string;
  @ApiPropertyOptional({ description: 'Session id' }) sid?: string;
  @ApiPropertyOptional({ description: 'Expiry, seconds since the epoch' }) exp?: number;
  @ApiPropertyOptional() iat?: number;
  @ApiPropertyOptional() iss?: string;
  @ApiPropertyOptional() aud?: string;
  @ApiPropertyOptional({ enum: ['Bearer'] }) token_type?: string;
  @ApiPropertyOptional({ type: [String], description: "The user's roles now" }) roles?: string[];
  @ApiPropertyOptional() jti?: string;
}
