import { Module } from '@nestjs/common';
import { ServiceSecretsRepository } from './service-secrets.repository';

@Module({ providers: [ServiceSecretsRepository], exports: [ServiceSecretsRepository] })
export class SecretsModule {}
