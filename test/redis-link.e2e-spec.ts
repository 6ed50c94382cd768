import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { createRedisClient, RedisOptions, SUBSCRIBER_OPTIONS } from '@app/redis';
import { TcpProxy } from './support/tcp-proxy';
import { waitUntil } from './support/wait-until';

const CYCLES = 5;

/**
 * The service's Redis client (the options it runs with) behind a link that goes down and comes
 * back, as the revocation stream's outage test does to instance B: cut, restored, then restored
 * again while already open (an afterEach that restores whatever the test did), with commands in
 * flight all along, and its pub/sub connection (SUBSCRIBER_OPTIONS, subscribing again on every
 * 'ready' as the cache's invalidation bus does). A GET of a missing key answers nil: a nil reply
 * that ioredis cannot match to a command throws a TypeError from its socket handler, an uncaught
 * exception in the service.
 */
describe('a Redis link cut and restored under traffic', () => {
  let proxy: TcpProxy;
  let client: Redis;
  let subscriber: Redis;
  const queueErrors: string[] = [];
  const received: string[] = [];
  let subscriptions = 0;
  const prefix = `e2e:link:${randomBytes(4).toString('hex')}`;
  const channel = `${prefix}:channel`;

  beforeAll(async () => {
    proxy = await TcpProxy.forUrl(process.env.E2E_REDIS_URL!);
    const options: RedisOptions = {
      url: proxy.url(process.env.E2E_REDIS_URL!),
      mode: 'standalone',
      nodes: [],
      sentinels: [],
      sentinelName: 'mymaster',
      // Long enough that a busy CI machine's stall does not time out the checks' own commands,
      // shorter than the pause below so that commands held by the pause do time out.
      commandTimeoutMs: 1_000,
    };
    const onError = (error: Error) => {
      if (error.message.startsWith('Command queue state error')) queueErrors.push(error.message);
    };
    client = createRedisClient(options, 'e2e-redis-link') as Redis;
    client.on('error', onError);
    subscriber = createRedisClient(options, 'e2e-redis-link-subscriber', SUBSCRIBER_OPTIONS) as Redis;
    subscriber.on('error', onError);
    subscriber.on('message', (_channel: string, text: string) => received.push(text));
    subscriber.on('ready', () => {
      subscriber.subscribe(channel).then(
        () => (subscriptions += 1),
        () => undefined,
      );
    });
    await waitUntil(() => subscriptions, { what: 'the first subscription', until: (n) => n === 1 });
  });
  afterAll(async () => {
    client?.disconnect();
    subscriber?.disconnect();
    await proxy?.close();
  });

  /** GETs of a missing key and INCRs, one after another, until stopped; failures are expected while cut. */
  function traffic(): { stop: () => Promise<void> } {
    let running = true;
    const loop = (async () => {
      while (running) {
        await client.get(`${prefix}:missing`).catch(() => undefined);
        await client.incr(`${prefix}:busy`).catch(() => undefined);
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
      },
    };
  }

  /**
   * Each command runs once on the server and its reply goes to it: a counter climbs by exactly one.
   * A message published once reaches the one subscriber once.
   */
  async function expectOneReplyPerCommand(cycle: number): Promise<void> {
    received.length = 0;
    expect(await client.publish(channel, `m${cycle}`)).toBe(1);
    await waitUntil(() => received.length, { what: 'the message', until: (n) => n > 0 });
    const key = `${prefix}:count:${cycle}`;
    const seen: (number | string | null)[] = [];
    for (let i = 0; i < 20; i += 1) {
      seen.push(await client.incr(key));
      seen.push(await client.get(`${prefix}:missing`));
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => [i + 1, null]).flat());
    expect(received).toEqual([`m${cycle}`]);
  }

  it(`answers every command once, with its own reply, through ${CYCLES} cut/restore cycles`, async () => {
    for (let cycle = 0; cycle < CYCLES; cycle += 1) {
      const load = traffic();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await proxy.cut();
      await waitUntil(() => client.status, { what: 'the client to notice', until: (s) => s !== 'ready' });
      const resubscribed = subscriptions + 1;
      await proxy.restore();
      await waitUntil(() => client.status, { what: 'the reconnection', until: (s) => s === 'ready' });
      await waitUntil(() => subscriptions, { what: 'the new subscription', until: (n) => n >= resubscribed });
      // What an afterEach does after a test that may or may not have broken the link.
      await proxy.restore();
      await new Promise((resolve) => setTimeout(resolve, 100));
      await load.stop();
      await expectOneReplyPerCommand(cycle);
    }
    expect(queueErrors).toEqual([]);
    expect(subscriptions).toBe(CYCLES + 1);
    expect(proxy.openConnections).toBe(2);
  });

  it(`answers every command once through ${CYCLES} pause/restore cycles (the bytes held meanwhile flowing on after)`, async () => {
    const before = { subscriptions, accepted: proxy.acceptedConnections };
    for (let cycle = 0; cycle < CYCLES; cycle += 1) {
      const load = traffic();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await proxy.pause();
      // Longer than the 1 s command timeout.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await proxy.restore();
      await proxy.restore();
      await load.stop();
      await expectOneReplyPerCommand(CYCLES + cycle);
    }
    expect(queueErrors).toEqual([]);
    // The same connections all along.
    expect({ subscriptions, accepted: proxy.acceptedConnections }).toEqual(before);
  });
});
