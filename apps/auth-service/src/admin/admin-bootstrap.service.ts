import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { PasswordHasher } from '../crypto/password-hasher';
import { UsersRepository } from '../users/users.repository';

/**
 * The first admin, from ADMIN_EMAIL / ADMIN_PASSWORD: created, or promoted if its email is
 * verified, at boot, idempotently (UsersRepository.ensureAdmin).
 */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('Admin');

  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.admin;
    if (!admin) return;
    const { user, outcome } = await this.users.ensureAdmin(admin.email, () =>
      this.hasher.hash(admin.password),
    );
    if (outcome === 'unverified') {
      // Not a boot failure: the service runs, without that admin, until the address is proven.
      this.logger.error(
        `ADMIN_EMAIL belongs to user ${user.id}, whose email is not verified: not promoted ` +
          '(anyone can register an address). Once the email is verified (the link goes to that ' +
          'mailbox), the next start promotes it.',
      );
    } else if (outcome !== 'unchanged') this.logger.log(`First admin ${outcome}: user ${user.id}`);
  }
}
