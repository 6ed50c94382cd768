import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, ValidateIf } from 'class-validator';

/** `{mfaToken, code}` or `{mfaToken, recoveryCode}`: exactly one of the two. */
export class MfaVerifyDto {
  @ApiProperty({ description: 'The mfaToken of the login challenge' })
  @IsString()
  @Length(1, 512)
  mfaToken!: string;

  @ApiPropertyOptional({ example: '123456', description: 'A 6-digit TOTP code' })
  @ValidateIf((dto: MfaVerifyDto) => dto.recoveryCode === undefined || dto.code !== undefined)
  @IsString({ message: 'code or recoveryCode must be given, as a string' })
  @Length(1, 64)
  code?: string;

  @ApiPropertyOptional({ example: 'abcd-efgh-ijkl-mnop', description: 'One of the recovery codes' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  recoveryCode?: string;
}

export class MfaChallengeDto {
  @ApiProperty({ enum: [true] }) mfaRequired!: true;
  @ApiProperty({ description: 'Single use, 5 minutes, dies after 5 wrong codes' }) mfaToken!: string;
  @ApiProperty({ example: ['totp', 'recovery_code'], type: [String] }) methods!: string[];
  @ApiProperty({ example: 300 }) expiresIn!: number;
}
