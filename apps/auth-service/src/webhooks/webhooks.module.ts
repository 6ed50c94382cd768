import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookOutboxRepository } from './webhook-outbox.repository';
import { WebhooksMetrics } from './webhooks.metrics';

/** Security events to WEBHOOK_URLS through an outbox (see WebhookDispatcher). */
@Module({
  imports: [EventsModule],
  providers: [WebhookDispatcher, WebhookOutboxRepository, WebhooksMetrics],
})
export class WebhooksModule {}
