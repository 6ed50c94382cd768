import { Module } from '@nestjs/common';
import { PasswordHasher } from './password-hasher';
import { PasswordPolicy } from './password-policy';

@Module({ providers: [PasswordHasher, PasswordPolicy], exports: [PasswordHasher, PasswordPolicy] })
export class CryptoModule {}
