import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { ClientCredentials } from './client-credentials';
import { ClientCredentialsGuard } from './client-credentials.guard';
import { IntrospectionFromMemory } from './introspection-from-memory';
import { IntrospectionController } from './introspection.controller';
import { IntrospectionService } from './introspection.service';

@Module({
  imports: [AccessModule, RateLimitModule],
  controllers: [IntrospectionController],
  providers: [IntrospectionService, ClientCredentials, ClientCredentialsGuard, IntrospectionFromMemory],
  // The revocation stream authenticates its consumers as introspection clients.
  exports: [ClientCredentials, ClientCredentialsGuard],
})
export class IntrospectionModule {}
