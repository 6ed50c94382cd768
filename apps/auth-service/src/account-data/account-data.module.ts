import { Module } from '@nestjs/common';
import { CryptoModule } from '../crypto/crypto.module';
import { EventsModule } from '../events/events.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { SecondFactorsModule } from '../second-factors/second-factors.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AccountDataRepository } from './account-data.repository';
import { AccountDeletion } from './account-deletion.service';
import { AccountExporter } from './account-export.service';
import { UserCacheEviction } from './user-cache-eviction';

/**
 * A user's data as a whole (GDPR): deletion, export, and the eviction of every cache entry of a
 * user. No routes: the caller's own (/users/me) and the admin's (/admin/users/:id) use it.
 */
@Module({
  imports: [UsersModule, SessionsModule, EventsModule, CryptoModule, RateLimitModule, SecondFactorsModule],
  providers: [AccountDataRepository, AccountDeletion, AccountExporter, UserCacheEviction],
  exports: [AccountDeletion, AccountExporter, UserCacheEviction],
})
export class AccountDataModule {}
