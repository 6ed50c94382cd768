import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import type { SecurityEventView } from '../events/event-types';
import { SecurityEvents } from '../events/security-events';
import { ClaimedDelivery, WebhookOutboxRepository } from './webhook-outbox.repository';
import { WebhooksMetrics } from './webhooks.metrics';

const POLL_MS = 1_000;
const BATCH = 20;
const SEND_TIMEOUT_MS = 5_000;

/**
 * Webhooks (WEBHOOK_URLS, WEBHOOK_SECRET): every security event gets an outbox row per URL in its
 * own transaction (so no committed change is missed and no rolled-back one is sent), and a poller
 * on every instance sends what is due, signed the Standard Webhooks way (the `standardwebhooks`
 * package): `webhook-id` = the event id on every attempt. A failure is retried after the next
 * delay of WEBHOOK_RETRY_DELAYS; requests never wait for a receiver.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private readonly signer?: Webhook;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly outbox: WebhookOutboxRepository,
    private readonly metrics: WebhooksMetrics,
    events: SecurityEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const { urls, secret } = config.webhooks;
    if (urls.length === 0 || !secret) return;
    this.signer = new Webhook(secret);
    events.onWrite((db, written) =>
      this.outbox.enqueue(
        db,
        written.flatMap((event) => urls.map((url) => ({ eventId: event.id, url, body: bodyOf(event) }))),
      ),
    );
  }

  onApplicationBootstrap(): void {
    if (!this.signer) return;
    this.timer = setInterval(() => void this.tick(), POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One poll: claim what is due, send it all, settle each; then refresh the outbox gauges. */
  tick(): Promise<void> {
    this.running ??= this.dispatch()
      .catch((error) => this.logger.warn(`webhook poll failed: ${String(error)}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async dispatch(): Promise<void> {
    const due = await this.outbox.claim(BATCH);
    await Promise.all(due.map((delivery) => this.send(delivery)));
    const depth = await this.outbox.depth();
    this.metrics.pending.set(depth.pending);
    this.metrics.oldestAge.set(depth.oldestAgeSeconds);
  }

  private async send(delivery: ClaimedDelivery): Promise<void> {
    const error = await this.post(delivery);
    if (error === undefined) {
      await this.outbox.delivered(delivery.id);
      this.metrics.deliveries.inc({ result: 'delivered' });
      return;
    }
    const delays = this.config.webhooks.retryDelaysSeconds;
    const retryIn = delivery.attempts <= delays.length ? (delays[delivery.attempts - 1] ?? null) : null;
    await this.outbox.failed(delivery.id, error, retryIn);
    this.metrics.deliveries.inc({ result: retryIn === null ? 'dead' : 'failed' });
  }

  /** Undefined when the receiver answered 2xx; else what went wrong (kept on the row, no secret in it). */
  private async post(delivery: ClaimedDelivery): Promise<string | undefined> {
    const timestamp = new Date();
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': delivery.eventId,
          'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
          'webhook-signature': this.signer!.sign(delivery.eventId, timestamp, delivery.body),
        },
        body: delivery.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
      await response.body?.cancel();
      return response.ok ? undefined : `HTTP ${response.status}`;
    } catch (error) {
      return (error as Error).name === 'TimeoutError'
        ? 'timeout'
        : `unreachable: ${(error as Error).message}`.slice(0, 200);
    }
  }
}

/** API.md: `{type, timestamp, data: event}`. */
function bodyOf(event: SecurityEventView): string {
  return JSON.stringify({ type: event.type, timestamp: event.createdAt.toISOString(), data: event });
}
