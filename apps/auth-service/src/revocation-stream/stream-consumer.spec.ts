import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { RevocationEntry } from '../sessions/revocation-log';
import { revokedFrame } from './sse-frames';
import { StreamConsumer } from './stream-consumer';

/** A response that keeps what is written, with a write buffer the test sets. */
class FakeResponse extends EventEmitter {
  written = '';
  ended = false;
  destroyed = false;
  writableLength = 0;
  writeHead = jest.fn();
  flushHeaders = jest.fn();
  write(text: string): boolean {
    this.written += text;
    return true;
  }
  end(text: string): void {
    this.written += text;
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

const entry = (seq: number): RevocationEntry => ({
  cursor: `7-${seq}`,
  sessionId: `s${seq}`,
  userId: 'u',
  reason: 'logout',
  revokedAt: new Date(0),
  expiresAt: new Date(905_000),
  sessionExpiresAt: new Date(0),
});

/** The ids of the events written, in order (ready as `ready@<id>`). */
function ids(res: FakeResponse): string[] {
  return [...res.written.matchAll(/id: (\S+)\nevent: (\w+)/g)].map(([, id, event]) =>
    event === 'ready' ? `ready@${id}` : id!,
  );
}

describe('StreamConsumer', () => {
  let res: FakeResponse;
  let events: { sent: jest.Mock; gone: jest.Mock };
  let consumer: StreamConsumer;

  beforeEach(() => {
    res = new FakeResponse();
    events = { sent: jest.fn(), gone: jest.fn() };
    consumer = new StreamConsumer(res as unknown as ServerResponse, '7-0', 1000, events);
    consumer.start({ 'x-request-id': 'r1' });
  });

  it('answers text/event-stream with the hooks’ headers and a retry hint', () => {
    expect(res.writeHead).toHaveBeenCalledWith(
      200,
      expect.objectContaining({ 'x-request-id': 'r1', 'content-type': 'text/event-stream; charset=utf-8' }),
    );
    expect(res.written).toBe('retry: 1000\n\n');
  });

  it('holds live entries during the catch-up, then sends those past its cursor once, then ready, then live', () => {
    consumer.catchUp([entry(1), entry(2)]);
    // Told by the follower meanwhile: 2 was read by the catch-up too, 3 was not.
    consumer.offer([entry(2), entry(3)], revokedFrame);
    expect(ids(res)).toEqual(['7-1', '7-2']);
    consumer.goLive();
    consumer.offer([entry(3), entry(4)], revokedFrame);
    expect(ids(res)).toEqual(['7-1', '7-2', '7-3', 'ready@7-3', '7-4']);
    expect(res.written).toContain('data: {"sid":"s4","sub":"u","exp":905}\n\n');
    expect(events.sent.mock.calls.map(([sent, live]) => [sent.length, live])).toEqual([
      [2, false],
      [1, true],
      [1, true],
    ]);
  });

  it('throws held entries away past its bound and says so, so that the catch-up reads the log again', () => {
    consumer.offer(
      Array.from({ length: 10_001 }, (_, i) => entry(i + 1)),
      revokedFrame,
    );
    expect(consumer.takeOverflow()).toBe(true);
    expect(consumer.takeOverflow()).toBe(false);
    consumer.goLive();
    expect(ids(res)).toEqual(['ready@7-0']);
  });

  it('drops a consumer whose write buffer passes the bound: dropped event, then the socket is cut after a grace', () => {
    jest.useFakeTimers();
    try {
      consumer.goLive();
      res.writableLength = 1001;
      consumer.offer([entry(1)], revokedFrame);
      expect(res.ended).toBe(true);
      expect(res.written.endsWith('event: dropped\ndata: {"reason":"slow_consumer"}\n\n')).toBe(true);
      expect(events.gone).toHaveBeenCalledWith(consumer, 'slow_consumer');
      expect(consumer.open).toBe(false);
      consumer.offer([entry(2)], revokedFrame);
      expect(ids(res)).not.toContain('7-2');
      jest.advanceTimersByTime(5_000);
      expect(res.destroyed).toBe(true);
      expect(events.gone).toHaveBeenCalledTimes(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('writes a keep-alive comment, and nothing once the consumer went away', () => {
    consumer.keepAlive();
    expect(res.written.endsWith(': keep-alive\n\n')).toBe(true);
    res.emit('close');
    expect(events.gone).toHaveBeenCalledWith(consumer);
    const before = res.written;
    consumer.keepAlive();
    expect(res.written).toBe(before);
  });
});
