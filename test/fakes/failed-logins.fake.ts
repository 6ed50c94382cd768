import type { EventClient } from '../../apps/auth-service/src/events/event-types';
import type { FailedLoginRecorder } from '../../apps/auth-service/src/events/failed-login-recorder';

/** Keeps the failed logins it is told of, in order. */
export class FakeFailedLogins implements Pick<FailedLoginRecorder, 'record'> {
  readonly recorded: { email: string; userId: string | null; client: EventClient }[] = [];

  record(email: string, userId: string | null, client: EventClient): void {
    this.recorded.push({ email, userId, client });
  }
}
