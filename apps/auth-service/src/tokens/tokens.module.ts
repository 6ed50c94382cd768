import { Module } from '@nestjs/common';
import { AccessTokenService } from './access-token.service';
import { SigningKeysRepository } from './signing-keys.repository';
import { SigningKeysService } from './signing-keys.service';

@Module({
  providers: [SigningKeysRepository, SigningKeysService, AccessTokenService],
  exports: [SigningKeysService, AccessTokenService],
})
export class TokensModule {}
