import { Global, Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { CacheDatabaseMetrics } from './cache-database.metrics';
import { OpsMetrics } from './ops.metrics';

/** Global: feature modules record their series on OpsMetrics without importing this module. */
@Global()
@Module({ imports: [SessionsModule], providers: [CacheDatabaseMetrics, OpsMetrics], exports: [OpsMetrics] })
export class ObservabilityModule {}
