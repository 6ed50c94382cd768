import { Injectable } from '@nestjs/common';
import { AccountDeletion } from '../account-data/account-deletion.service';
import { ApiError } from '../common/api-error';
import type { EventClient } from '../events/event-types';
import { decodeCursor, toPage } from '../common/page-cursor';
import { SessionRevoker } from '../sessions/session-revoker';
import { SessionListItem, SessionsService } from '../sessions/sessions.service';
import { PublicUser } from '../users/public-user';
import { UsersRepository } from '../users/users.repository';
import { AdminUserRow, AdminUsersRepository } from './admin-users.repository';

/** `AdminUser` of API.md: a PublicUser plus what an operator needs to judge the account. */
export interface AdminUser extends PublicUser {
  disabled: boolean;
  mfa: { totp: boolean; passkeys: number };
  lastLoginAt: Date | null;
  activeSessions: number;
}

export interface AdminUserPage {
  items: AdminUser[];
  nextCursor: string | null;
}

/** The admin making a change, and from where: the change's security event says who. */
export interface Actor {
  adminId: string;
  client: EventClient;
}

export const userNotFound = () => new ApiError('user_not_found', 'No such user');

/** What operators do to accounts: find, disable and enable, set roles, see and end sessions, delete. */
@Injectable()
export class AdminUsersService {
  constructor(
    private readonly repository: AdminUsersRepository,
    private readonly users: UsersRepository,
    private readonly sessions: SessionsService,
    private readonly revoker: SessionRevoker,
    private readonly deletion: AccountDeletion,
  ) {}

  async list(options: { query?: string; limit: number; cursor?: string }): Promise<AdminUserPage> {
    const after = options.cursor ? decodeCursor(options.cursor) : undefined;
    const rows = await this.repository.list({ query: options.query, limit: options.limit + 1, after });
    const page = toPage(rows, options.limit, (row) => ({ at: row.createdAt, id: row.id }));
    return { items: page.items.map(toAdminUser), nextCursor: page.nextCursor };
  }

  async get(id: string): Promise<AdminUser> {
    const row = await this.repository.get(id);
    if (!row) throw userNotFound();
    return toAdminUser(row);
  }

  /**
   * The flag and the revocation of every session commit together: from then on no instance
   * accepts the user's tokens (SessionRevoker rewrites the session entries) and every way in
   * answers 403 `account_disabled`.
   */
  async disable(id: string, actor: Actor): Promise<void> {
    await this.revoker.inTransaction(async (tx) => {
      if (!(await this.repository.setDisabled(tx.client, id, true))) throw userNotFound();
      await this.revoker.revoke({ userId: id }, 'account_disabled', {
        tx,
        event: { type: 'user.disabled', userId: id, client: actor.client, details: { by: actor.adminId } },
      });
    });
  }

  async enable(id: string, actor: Actor): Promise<void> {
    await this.revoker.inTransaction(async (tx) => {
      if (!(await this.repository.setDisabled(tx.client, id, false))) throw userNotFound();
      await this.revoker.record(tx, {
        type: 'user.enabled',
        userId: id,
        client: actor.client,
        details: { by: actor.adminId },
      });
    });
  }

  /**
   * Replaces the roles. The cached user is rewritten before this returns, and roles are read from
   * it (RolesGuard, /auth/me, introspection), so the change shows at once on every instance;
   * removing a role also revokes every session, so no token issued with it works any more.
   */
  async setRoles(id: string, roles: string[], actor: Actor): Promise<AdminUser> {
    const wanted = [...new Set(roles)];
    await this.revoker.inTransaction(async (tx) => {
      const change = await this.repository.setRoles(tx.client, id, wanted);
      if (!change) throw userNotFound();
      const removed = change.before.filter((role) => !change.after.includes(role));
      if (removed.length > 0) await this.revoker.revoke({ userId: id }, 'role_removed', { tx });
      await this.revoker.record(tx, {
        type: 'user.roles_changed',
        userId: id,
        client: actor.client,
        details: { by: actor.adminId, before: change.before, after: change.after },
      });
    });
    await this.users.refresh(id);
    return this.get(id);
  }

  async listSessions(id: string): Promise<SessionListItem[]> {
    if (!(await this.repository.exists(id))) throw userNotFound();
    // No session of another user is "the current one" of the admin asking.
    return this.sessions.listActive(id, '');
  }

  /** As DELETE /users/me, without re-authentication: the event says which admin. */
  async delete(id: string, actor: Actor): Promise<void> {
    if (!(await this.deletion.delete(id, { adminId: actor.adminId, client: actor.client })))
      throw userNotFound();
  }

  async revokeSessions(id: string): Promise<void> {
    if (!(await this.repository.exists(id))) throw userNotFound();
    await this.revoker.revoke({ userId: id }, 'admin_revoked');
  }
}

function toAdminUser(row: AdminUserRow): AdminUser {
  const { disabledAt, lastLoginAt, activeSessions, totp, passkeys, ...user } = row;
  return {
    ...user,
    disabled: disabledAt !== null,
    mfa: { totp, passkeys },
    lastLoginAt,
    activeSessions,
  };
}
