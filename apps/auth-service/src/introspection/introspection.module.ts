import { Module } from '@nestjs/common';
import { ClientCredentialsGuard } from './client-credentials.guard';
import { IntrospectionController } from './introspection.controller';
import { IntrospectionService } from './introspection.service';

@Module({
  controllers: [IntrospectionController],
  providers: [IntrospectionService, ClientCredentialsGuard],
})
export class IntrospectionModule {}
