import { Logger } from '@nestjs/common';
import type { RedisClient } from '@app/redis';
import { randomUUID } from 'node:crypto';
import { CacheEvents } from './cache-events';
import { L1Store } from './l1-store';
import { L2Store } from './l2-store';

interface InvalidationMessage {
  /** The sending instance: it has already dropped its own L1 copies. */
  o: string;
  k?: string[];
  all?: true;
}

/**
 * Tells every instance which L1 entries to drop, over Redis pub/sub. L1 is trusted only while
 * this channel is healthy; after any disconnect it is flushed, because messages may have been
 * missed.
 */
export class InvalidationBus {
  private readonly logger = new Logger('CacheInvalidation');
  readonly instanceId = randomUUID();
  private subscribed = false;

  constructor(
    private readonly subscriber: RedisClient,
    private readonly publisher: L2Store,
    private readonly channel: string,
    private readonly l1: L1Store,
    private readonly events: CacheEvents,
  ) {
    subscriber.on('message', (channelName: string, text: string) => {
      if (channelName === this.channel) this.receive(text);
    });
    subscriber.on('ready', () => void this.subscribe());
    for (const event of ['close', 'end', 'error', 'reconnecting']) {
      subscriber.on(event, () => this.lost());
    }
    if (subscriber.status === 'ready') void this.subscribe();
  }

  /** L1 may serve invalidatable entries only while this is true. */
  get healthy(): boolean {
    return this.subscribed && this.subscriber.status === 'ready';
  }

  async publish(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const sent = await this.publisher.publish(
      this.channel,
      JSON.stringify({ o: this.instanceId, k: keys } satisfies InvalidationMessage),
    );
    if (sent) this.events.emit('invalidation', { direction: 'sent', keys: keys.length });
  }

  private async subscribe(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.channel);
      // Whatever was published while we were away is lost: start from an empty L1.
      this.l1.clear();
      this.subscribed = true;
    } catch (error) {
      this.logger.warn(`subscribe failed: ${(error as Error).message}`);
    }
  }

  private lost(): void {
    if (this.subscribed) this.l1.clear();
    this.subscribed = false;
  }

  private receive(text: string): void {
    let message: InvalidationMessage;
    try {
      message = JSON.parse(text) as InvalidationMessage;
    } catch {
      return;
    }
    if (message.o === this.instanceId) return;
    if (message.all) {
      this.l1.clear();
      this.events.emit('invalidation', { direction: 'received', keys: 0 });
      return;
    }
    const keys = message.k ?? [];
    this.l1.delete(keys);
    this.events.emit('invalidation', { direction: 'received', keys: keys.length });
  }
}
