import { DynamicModule, Module } from '@nestjs/common';
import { AuthClientModule } from '@auth-service/auth-client';
import { ConsumerConfig } from './consumer-config';
import { ConsumerController } from './consumer.controller';

@Module({})
export class ConsumerModule {
  static forRoot(config: ConsumerConfig): DynamicModule {
    return {
      module: ConsumerModule,
      imports: [AuthClientModule.forRoot({ ...config.auth, guardAllRoutes: true })],
      controllers: [ConsumerController],
    };
  }
}
