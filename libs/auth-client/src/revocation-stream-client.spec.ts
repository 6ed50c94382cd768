import { RevocationStreamClient, RevocationStreamClientOptions } from './revocation-stream-client';

/** One stream the fake server opened: the test writes SSE text into it, ends or breaks it. */
interface OpenStream {
  headers: Headers;
  send(text: string): void;
  end(): void;
  aborted: boolean;
}

const WALL = 1_796_000_000_000;

/** The auth service's stream endpoint, in memory: each fetch opens a stream the test drives. */
function fakeStreamServer() {
  const server = {
    opened: [] as OpenStream[],
    /** When each request came (fake timers' clock). */
    times: [] as number[],
    /** Status of the next answers (200: a stream). */
    status: 200,
    fetch: (async (_input: string | URL | Request, init?: RequestInit) => {
      server.times.push(Date.now());
      if (server.status !== 200) return new Response('{"code":"invalid_client"}', { status: server.status });
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
      const open: OpenStream = {
        headers: new Headers(init?.headers),
        send: (text) => controller.enqueue(new TextEncoder().encode(text)),
        end: () => controller.close(),
        aborted: false,
      };
      init?.signal?.addEventListener('abort', () => {
        open.aborted = true;
        controller.error(new Error('aborted'));
      });
      server.opened.push(open);
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    }) as typeof fetch,
  };
  return server;
}

const revoked = (id: string, sid: string, exp: number) =>
  `id: ${id}\nevent: revoked\ndata: ${JSON.stringify({ sid, sub: 'u1', exp })}\n\n`;
const ready = (id: string) => `id: ${id}\nevent: ready\ndata: {}\n\n`;
/** Lets the client's stream reading run (a few turns of the event loop). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('RevocationStreamClient (push mode state machine)', () => {
  let server: ReturnType<typeof fakeStreamServer>;
  let monotonic: number;
  let wall: number;
  let warnings: string[];
  let client: RevocationStreamClient;

  function start(overrides: Partial<RevocationStreamClientOptions> = {}) {
    client = new RevocationStreamClient({
      url: 'https://auth.example/api/v1/auth/revocations',
      authorization: 'Basic b3JkZXJzOnNlY3JldA==',
      maxStaleMs: 5_000,
      reconnect: { initialDelayMs: 100, maxDelayMs: 800 },
      idleTimeoutMs: 45_000,
      clockToleranceSeconds: 5,
      fetch: server.fetch,
      clock: () => monotonic,
      now: () => wall,
      logger: { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
      random: () => 0,
      ...overrides,
    });
    client.start();
  }

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask', 'performance'] });
    server = fakeStreamServer();
    monotonic = 0;
    wall = WALL;
    warnings = [];
  });
  afterEach(() => {
    client.stop();
    jest.useRealTimers();
  });

  const expSoon = WALL / 1000 + 900;

  it('knows nothing before its first ready, then refuses what the snapshot and live events name', async () => {
    start();
    await settle();
    expect(server.opened).toHaveLength(1);
    const [stream] = server.opened;
    expect(stream!.headers.get('authorization')).toBe('Basic b3JkZXJzOnNlY3JldA==');
    expect(stream!.headers.get('accept')).toBe('text/event-stream');
    expect(stream!.headers.get('last-event-id')).toBeNull();
    expect(client.state).toBe('connecting');
    expect(client.verdict('s1')).toBe('unknown');

    stream!.send(revoked('7-1', 's1', expSoon));
    await settle();
    // The snapshot is still coming: not trusted yet, but what it named is refused already.
    expect(client.verdict('s1')).toBe('revoked');
    expect(client.verdict('s2')).toBe('unknown');
    stream!.send(ready('7-1'));
    await settle();
    expect(client.state).toBe('live');
    expect(client.verdict('s2')).toBe('not_revoked');
    stream!.send(revoked('7-2', 's2', expSoon));
    await settle();
    expect(client.verdict('s2')).toBe('revoked');
    expect(client.stats()).toMatchObject({
      state: 'live',
      eventsReceived: 2,
      lastEventId: '7-2',
      revokedSessions: 2,
    });
  });

  it('forgets a sid once its exp (plus the clock tolerance) has passed', async () => {
    start();
    await settle();
    server.opened[0]!.send(revoked('7-1', 's1', WALL / 1000 + 10) + ready('7-1'));
    await settle();
    wall = WALL + 14_999;
    expect(client.verdict('s1')).toBe('revoked');
    wall = WALL + 15_001;
    expect(client.verdict('s1')).toBe('not_revoked');
    // An event whose tokens already expired is not even kept.
    server.opened[0]!.send(revoked('7-2', 's9', WALL / 1000 - 60));
    await settle();
    expect(client.stats().revokedSessions).toBe(1);
    jest.advanceTimersByTime(60_000);
    expect(client.stats().revokedSessions).toBe(0);
  });

  it('down: trusted for maxStaleMs, then unknown; reconnects with backoff from the last id and is live again', async () => {
    start();
    await settle();
    server.opened[0]!.send(revoked('7-1', 's1', expSoon) + ready('7-4'));
    await settle();
    server.opened[0]!.end();
    await settle();
    expect(client.state).toBe('down');
    monotonic = 5_000;
    expect(client.verdict('s2')).toBe('not_revoked');
    expect(client.verdict('s1')).toBe('revoked');
    monotonic = 5_001;
    expect(client.verdict('s2')).toBe('unknown');
    expect(client.verdict('s1')).toBe('revoked');

    // random() = 0: half the ceiling, the ceiling doubling from 100 ms.
    jest.advanceTimersByTime(49);
    await settle();
    expect(server.opened).toHaveLength(1);
    jest.advanceTimersByTime(1);
    await settle();
    expect(server.opened).toHaveLength(2);
    expect(server.opened[1]!.headers.get('last-event-id')).toBe('7-4');
    server.opened[1]!.send(revoked('7-5', 's2', expSoon) + ready('7-5'));
    await settle();
    expect(client.state).toBe('live');
    expect(client.verdict('s2')).toBe('revoked');
    expect(client.verdict('s3')).toBe('not_revoked');
    expect(warnings.join('\n')).toMatch(
      /revocation stream .* lost \(the stream ended\); reconnecting in 50 ms/,
    );
  });

  it('backs off doubling to maxDelayMs while the server refuses (401 logged with a hint), and resets once live', async () => {
    server.status = 401;
    start();
    await settle();
    const run = async (ms: number) => {
      for (let t = 0; t < ms; t += 10) {
        jest.advanceTimersByTime(10);
        await settle();
      }
    };
    await run(2_000);
    const gaps = server.times.slice(1).map((t, i) => t - server.times[i]!);
    expect(gaps.slice(0, 5)).toEqual([50, 100, 200, 400, 400]);
    expect(warnings[0]).toMatch(/HTTP 401: our client credentials were refused/);
    expect(client.state).toBe('connecting');
    expect(client.verdict('s1')).toBe('unknown');

    // Accepted again: live, and the next loss starts over from the first delay.
    server.status = 200;
    await run(400);
    server.opened.at(-1)!.send(ready('7-1'));
    await settle();
    expect(client.state).toBe('live');
    const before = server.times.length;
    server.opened.at(-1)!.end();
    await settle();
    await run(50);
    expect(server.times.length).toBe(before + 1);
  });

  it('reopens a stream that sends nothing for idleTimeoutMs, and one the server drops', async () => {
    start({ idleTimeoutMs: 20_000 });
    await settle();
    server.opened[0]!.send(ready('7-1'));
    await settle();
    jest.advanceTimersByTime(15_000);
    server.opened[0]!.send(': keep-alive\n\n');
    await settle();
    jest.advanceTimersByTime(19_999);
    await settle();
    expect(server.opened[0]!.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    await settle();
    expect(server.opened[0]!.aborted).toBe(true);
    expect(client.state).toBe('down');
    jest.advanceTimersByTime(50);
    await settle();
    expect(server.opened).toHaveLength(2);
    server.opened[1]!.send(ready('7-2') + 'event: dropped\ndata: {"reason":"slow_consumer"}\n\n');
    server.opened[1]!.end();
    await settle();
    expect(warnings.some((w) => w.includes('slow_consumer'))).toBe(true);
    jest.advanceTimersByTime(50);
    await settle();
    expect(server.opened[2]!.headers.get('last-event-id')).toBe('7-2');
  });
});
