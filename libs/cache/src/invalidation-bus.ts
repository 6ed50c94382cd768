import { Logger } from '@nestjs/common';
import type { RedisClient } from '@app/redis';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CacheEvents } from './cache-events';
import { CacheInternalKeys } from './internal-keys';
import { L1Store } from './l1-store';
import { L2Store } from './l2-store';

interface InvalidationMessage {
  /** The sending instance: it has already dropped its own L1 copies. */
  o: string;
  k?: string[];
  all?: true;
  /** Sequence number of a message whose sender waits for acknowledgements. */
  s?: number;
  /** A heartbeat: the sender's monotonic clock when it sent it (only the sender reads it). */
  hb?: number;
}

export interface StrictL1Options {
  /**
   * How long after sending a heartbeat that came back this instance may serve strict entries from
   * L1, and how long a writer waits at most for acknowledgements. Heartbeats go out 5 times as often.
   */
  trustMs: number;
}

interface PendingAcks {
  /** How many subscribers PUBLISH said received the message; unknown until it answers. */
  expected?: number;
  received: number;
  done: () => void;
}

/**
 * Tells every instance which L1 entries to drop, over Redis pub/sub. L1 is trusted only while
 * this channel is healthy; after any disconnect it is flushed, because messages may have been
 * missed.
 *
 * With `strictL1`, entries that must never be served stale (session state, users) may be served
 * from L1 too, because a write does not return before every instance has dropped its copy:
 * - the writer publishes the invalidation with a sequence number; PUBLISH answers how many
 *   subscribers received it, and the writer waits for that many acknowledgements (each instance
 *   acknowledges on the writer's own channel after dropping the keys), at most `trustMs`;
 * - an instance trusts its L1 for strict entries only until `trustMs` after it SENT the last of its
 *   own heartbeats that came back through the channel. Redis delivers a channel's messages in
 *   order, so an instance that has not processed an invalidation yet has not seen any heartbeat
 *   published after it either: its trust ends at most `trustMs` after the invalidation was
 *   published, which is when a writer that got no acknowledgement from it stops waiting.
 * So once a write returns, every instance has dropped the entry or stopped trusting its L1. Each
 * instance reads its own clock only, so clock skew between machines does not matter.
 */
export class InvalidationBus {
  private readonly logger = new Logger('CacheInvalidation');
  readonly instanceId = randomUUID();
  private readonly channel: string;
  private readonly ackChannel: string;
  private subscribed = false;
  /** Bumped by every invalidation seen or made here: a read that spans one must not fill L1. */
  private epochValue = 0;
  private trustedUntil = 0;
  private sequence = 0;
  private readonly pending = new Map<number, PendingAcks>();
  private heartbeat?: NodeJS.Timeout;

  constructor(
    private readonly subscriber: RedisClient,
    private readonly publisher: L2Store,
    private readonly keys: CacheInternalKeys,
    private readonly l1: L1Store,
    private readonly events: CacheEvents,
    private readonly strict?: StrictL1Options,
  ) {
    this.channel = keys.invalidationChannel();
    this.ackChannel = keys.acknowledgementChannel(this.instanceId);
    subscriber.on('message', (channelName: string, text: string) => {
      if (channelName === this.channel) this.receive(text);
      else if (channelName === this.ackChannel) this.acknowledged(text);
    });
    subscriber.on('ready', () => void this.subscribe());
    for (const event of ['close', 'end', 'error', 'reconnecting']) {
      subscriber.on(event, () => this.lost());
    }
    if (subscriber.status === 'ready') void this.subscribe();
    if (strict) {
      this.heartbeat = setInterval(() => void this.sendHeartbeat(), Math.max(1, strict.trustMs / 5));
      this.heartbeat.unref();
    }
  }

  /** L1 may serve eventual entries only while this is true. */
  get healthy(): boolean {
    return this.subscribed && this.subscriber.status === 'ready';
  }

  /** L1 may serve strict entries only while this is true (see the class comment). */
  get strictTrusted(): boolean {
    return this.strict !== undefined && this.healthy && performance.now() < this.trustedUntil;
  }

  get epoch(): number {
    return this.epochValue;
  }

  /** A local write is about to happen: reads in flight must not fill L1 with what they saw. */
  bump(): void {
    this.epochValue++;
  }

  /**
   * Sends the invalidation; with strict L1, resolves once every instance that received it has
   * dropped the keys, or after `trustMs` (by then the silent ones have stopped trusting their L1).
   */
  async publish(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const message: InvalidationMessage = { o: this.instanceId, k: keys };
    if (!this.strict) {
      const sent = await this.publisher.publish(this.channel, JSON.stringify(message));
      if (sent !== undefined) this.events.emit('invalidation', { direction: 'sent', keys: keys.length });
      return;
    }
    const seq = ++this.sequence;
    message.s = seq;
    let settle!: () => void;
    const acked = new Promise<void>((resolve) => (settle = resolve));
    // Registered before publishing: our own subscriber may hand the message back before PUBLISH answers.
    const entry: PendingAcks = { received: 0, done: settle };
    this.pending.set(seq, entry);
    const timer = setTimeout(settle, this.strict.trustMs);
    try {
      const text = JSON.stringify(message);
      const receivers = await this.publisher.publish(this.channel, text);
      if (receivers === undefined) {
        await this.unacknowledged(text);
        return;
      }
      this.events.emit('invalidation', { direction: 'sent', keys: keys.length });
      entry.expected = receivers;
      if (entry.received >= receivers) return;
      await acked;
    } finally {
      clearTimeout(timer);
      this.pending.delete(seq);
    }
  }

  /**
   * The PUBLISH of an invalidation failed: it may have gone out (a reply that came too late) or not
   * (an error), and how many received it is unknown. Returning now would let an instance that has
   * not processed it yet serve its L1 copy after the write returned. So it is sent once more (past
   * an open circuit) and the writer waits out `trustMs`: by then every instance that received
   * either copy has dropped the keys or stopped trusting its L1 (see the class comment). Were both
   * lost, this channel cannot do more: revoked sessions are then refused through the database's
   * revocation log.
   */
  private async unacknowledged(text: string): Promise<void> {
    const trustMs = this.strict?.trustMs ?? 0;
    await Promise.all([
      this.publisher.publish(this.channel, text, { bypassBreaker: true }),
      new Promise((resolve) => setTimeout(resolve, trustMs)),
    ]);
  }

  /** Stops the heartbeat and releases writers still waiting. */
  close(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const entry of this.pending.values()) entry.done();
    this.pending.clear();
  }

  private async sendHeartbeat(): Promise<void> {
    if (!this.healthy) return;
    const message: InvalidationMessage = { o: this.instanceId, hb: performance.now() };
    await this.publisher.publish(this.channel, JSON.stringify(message));
  }

  private async subscribe(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.channel, this.ackChannel);
      // Whatever was published while we were away is lost: start from an empty L1.
      this.clearL1();
      this.subscribed = true;
      if (this.strict) void this.sendHeartbeat();
    } catch (error) {
      this.logger.warn(`subscribe failed: ${(error as Error).message}`);
    }
  }

  private lost(): void {
    if (this.subscribed) this.clearL1();
    this.subscribed = false;
    this.trustedUntil = 0;
  }

  private clearL1(): void {
    this.epochValue++;
    this.l1.clear();
  }

  private receive(text: string): void {
    let message: InvalidationMessage;
    try {
      message = JSON.parse(text) as InvalidationMessage;
    } catch {
      return;
    }
    if (message.o === this.instanceId) {
      if (message.hb !== undefined) this.trustedUntil = message.hb + (this.strict?.trustMs ?? 0);
      // Our own subscriber counts among the receivers PUBLISH reported: it acknowledges locally.
      else if (message.s !== undefined) this.countAck(message.s);
      return;
    }
    if (message.hb !== undefined) return;
    this.epochValue++;
    if (message.all) {
      this.l1.clear();
      this.events.emit('invalidation', { direction: 'received', keys: 0 });
    } else {
      const keys = message.k ?? [];
      this.l1.delete(keys);
      this.events.emit('invalidation', { direction: 'received', keys: keys.length });
    }
    if (message.s !== undefined) {
      void this.publisher.publish(this.keys.acknowledgementChannel(message.o), String(message.s));
    }
  }

  private acknowledged(text: string): void {
    const seq = Number(text);
    if (Number.isInteger(seq)) this.countAck(seq);
  }

  private countAck(seq: number): void {
    const entry = this.pending.get(seq);
    if (!entry) return;
    entry.received++;
    if (entry.expected !== undefined && entry.received >= entry.expected) entry.done();
  }
}
