import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

/** A TOTP code (6 digits) or, where the route says so, a recovery code: checked by the service. */
export class MfaCodeDto {
  @ApiProperty({
    example: '123456',
    description: 'A 6-digit TOTP code (DELETE /auth/mfa/totp also takes a recovery code)',
  })
  @IsString()
  @Length(1, 64)
  code!: string;
}

export class MfaStatusDto {
  @ApiProperty({ description: 'TOTP is confirmed and required at sign-in' }) totp!: boolean;
  @ApiProperty({ example: 10, description: 'Unused recovery codes' }) recoveryCodesLeft!: number;
  @ApiProperty({ example: 0, description: 'Registered passkeys' }) passkeys!: number;
}

export class TotpSetupDto {
  @ApiProperty({ description: 'The new pending secret, base32', example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' })
  secret!: string;
  @ApiProperty({
    example: 'otpauth://totp/auth.example.com:ada%40example.com?issuer=auth.example.com&secret=…',
  })
  otpauthUrl!: string;
}

export class RecoveryCodesDto {
  @ApiProperty({
    type: [String],
    minItems: 10,
    maxItems: 10,
    description: 'Shown once: only their hashes are kept',
    example: ['abcd-efgh-ijkl-mnop'],
  })
  recoveryCodes!: string[];
}
