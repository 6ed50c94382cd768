import { Injectable } from '@nestjs/common';
import type { SecurityEventView } from '../events/event-types';
import { SecurityEvents } from '../events/security-events';
import { AccountDataRepository, AccountRows } from './account-data.repository';

/** GET /users/me/export: everything held about the user, without a secret. */
export interface AccountExport extends AccountRows {
  exportedAt: Date;
  securityEvents: SecurityEventView[];
}

/**
 * Everything the service holds about a user (GDPR's right of access): the user and profile, every
 * session (active or ended), the OAuth accounts without provider tokens, and the security events.
 * Never a password hash, a refresh token or its hash, a provider token, a reset or verification token.
 */
@Injectable()
export class AccountExporter {
  constructor(
    private readonly rows: AccountDataRepository,
    private readonly events: SecurityEvents,
  ) {}

  /** Null when the user no longer exists. */
  async export(userId: string): Promise<AccountExport | null> {
    const rows = await this.rows.exportRows(userId);
    if (!rows) return null;
    return { exportedAt: new Date(), ...rows, securityEvents: await this.events.allOfUser(userId) };
  }
}
