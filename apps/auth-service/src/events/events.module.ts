import { Module } from '@nestjs/common';
import { EventsRetention } from './events-retention';
import { FailedLoginRecorder } from './failed-login-recorder';
import { SecurityEvents } from './security-events';

/**
 * The security log: SecurityEvents (written in the transaction of each change), the failed-login
 * recorder and the retention job. No routes: the lists live with their callers' modules (the
 * account's /auth/events, the admin's /admin/events), which need access/ that imports this.
 */
@Module({
  providers: [SecurityEvents, FailedLoginRecorder, EventsRetention],
  exports: [SecurityEvents, FailedLoginRecorder],
})
export class EventsModule {}
