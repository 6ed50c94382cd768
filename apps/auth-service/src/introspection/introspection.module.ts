import { Module } from '@nestjs/common';
import { ClientCredentials } from './client-credentials';
import { ClientCredentialsGuard } from './client-credentials.guard';
import { IntrospectionFromMemory } from './introspection-from-memory';
import { IntrospectionController } from './introspection.controller';
import { IntrospectionService } from './introspection.service';

@Module({
  controllers: [IntrospectionController],
  providers: [IntrospectionService, ClientCredentials, ClientCredentialsGuard, IntrospectionFromMemory],
})
export class IntrospectionModule {}
