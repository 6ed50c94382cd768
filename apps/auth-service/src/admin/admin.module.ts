import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { AccountDataModule } from '../account-data/account-data.module';
import { CryptoModule } from '../crypto/crypto.module';
import { EventsModule } from '../events/events.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AdminBodyLimit } from './admin-body-limit';
import { AdminBootstrap } from './admin-bootstrap.service';
import { AdminCacheController } from './admin.controller';
import { CacheAdminRepository } from './cache-admin.repository';
import { CacheAdminService } from './cache-admin.service';
import { CacheConsistencyService } from './cache-consistency.service';
import { CacheOpsMetrics } from './cache-ops.metrics';
import { CacheHealthService } from './cache-health.service';
import { CacheWarmer } from './cache-warmer.service';
import { RolesGuard } from './roles.guard';

/** Roles, the first admin, and the admin cache routes with warming and the consistency sampler. */
@Module({
  imports: [AccessModule, AccountDataModule, UsersModule, SessionsModule, CryptoModule, EventsModule],
  controllers: [AdminCacheController],
  providers: [
    AdminBodyLimit,
    AdminBootstrap,
    CacheAdminRepository,
    CacheAdminService,
    CacheConsistencyService,
    CacheHealthService,
    CacheOpsMetrics,
    CacheWarmer,
    RolesGuard,
  ],
  exports: [RolesGuard, CacheWarmer, CacheConsistencyService, CacheHealthService],
})
export class AdminModule {}
