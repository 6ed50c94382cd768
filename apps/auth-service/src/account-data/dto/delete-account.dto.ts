import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';

export class DeleteAccountDto {
  @ApiPropertyOptional({
    maxLength: 128,
    description: 'The current password; required when the account has one',
  })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  password?: string;

  @ApiPropertyOptional({
    maxLength: 64,
    description:
      'For an account without a password that has a second factor: a TOTP code or one of its recovery codes',
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  code?: string;
}
