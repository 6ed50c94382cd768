import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { UserFactory } from './support/factories';
import { Instance, startInstance } from './support/instance';
import { waitUntil } from './support/wait-until';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** A webhook receiver on loopback: answers 204, or 503 while `down`; keeps every request. */
class Receiver {
  readonly received: Received[] = [];
  down = false;
  private readonly server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const status = this.down ? 503 : 204;
      this.received.push({ headers: req.headers, body, status });
      res.statusCode = status;
      res.end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The delivered (2xx) requests carrying the events of `userId`, by event type. */
  deliveredFor(userId: string): Map<string, Received[]> {
    const byType = new Map<string, Received[]>();
    for (const r of this.received) {
      const payload = JSON.parse(r.body) as { type: string; data: { userId: string } };
      if (r.status !== 204 || payload.data.userId !== userId) continue;
      byType.set(payload.type, [...(byType.get(payload.type) ?? []), r]);
    }
    return byType;
  }

  attemptsOf(eventId: string): Received[] {
    return this.received.filter((r) => r.headers['webhook-id'] === eventId);
  }
}

/**
 * Webhooks of security events against a receiver the test runs: Standard Webhooks signatures
 * (checked with the `standardwebhooks` package), one delivery per event with two instances
 * polling, a receiver down for a while (nothing lost, same webhook-id), and a restart of the
 * service while deliveries wait.
 */
describe('webhooks', () => {
  const receiver = new Receiver();
  let env: Record<string, string>;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    const url = await receiver.start();
    env = { WEBHOOK_URLS: url, WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_DELAYS: '1,1,1,1,1,1,1,1,1,1' };
    [a, b] = await Promise.all([startInstance(env), startInstance(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await receiver.close();
  });

  it('POSTs every event once, signed the Standard Webhooks way, as {type, timestamp, data}', async () => {
    const user = await UserFactory.register(a.http);
    const id = user.tokens.user.id;
    const delivered = await waitUntil(() => receiver.deliveredFor(id), {
      what: 'user.registered and login.succeeded delivered',
      until: (m) => m.has('user.registered') && m.has('login.succeeded'),
    });
    // Two instances poll the same outbox: still one delivery per event.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const [type, requests] of receiver.deliveredFor(id)) {
      expect({ type, deliveries: requests.length }).toEqual({ type, deliveries: 1 });
    }
    const request = delivered.get('user.registered')?.[0];
    if (!request) throw new Error('no user.registered delivery');
    const verified = new Webhook(SECRET).verify(request.body, request.headers as Record<string, string>);
    expect(verified).toEqual({
      type: 'user.registered',
      timestamp: expect.any(String),
      data: expect.objectContaining({
        id: request.headers['webhook-id'],
        type: 'user.registered',
        userId: id,
      }),
    });
    expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // A forged body fails verification.
    expect(() =>
      new Webhook(SECRET).verify(request.body.replace(id, 'x'), request.headers as Record<string, string>),
    ).toThrow();
  });

  it('retries a receiver that is down until it is back: nothing lost, the same webhook-id each time', async () => {
    receiver.down = true;
    const user = await UserFactory.register(b.http);
    const id = user.tokens.user.id;
    const failing = await waitUntil(
      () => receiver.received.filter((r) => r.status === 503 && r.body.includes(id)),
      { what: 'two failed attempts', until: (attempts) => attempts.length >= 4 },
    );
    receiver.down = false;
    const delivered = await waitUntil(() => receiver.deliveredFor(id), {
      what: 'both events delivered after the outage',
      timeoutMs: 10_000,
      until: (m) => m.has('user.registered') && m.has('login.succeeded'),
    });
    const eventId = String(delivered.get('user.registered')?.[0]?.headers['webhook-id']);
    const attempts = receiver.attemptsOf(eventId);
    expect(attempts.length).toBeGreaterThan(1);
    expect(new Set(attempts.map((r) => r.body)).size).toBe(1);
    expect(failing.length).toBeGreaterThanOrEqual(4);
    const metrics = (await a.http.get('/metrics')).text;
    expect(metrics).toMatch(/auth_webhook_deliveries_total\{result="failed"\} [1-9]/);
    expect(metrics).toMatch(/auth_webhook_outbox_oldest_age_seconds \d/);
  });

  it('delivers what was waiting across a restart of the service', async () => {
    receiver.down = true;
    const user = await UserFactory.register(a.http);
    const id = user.tokens.user.id;
    await Promise.all([a.close(), b.close()]);
    receiver.down = false;
    [a, b] = await Promise.all([startInstance(env), startInstance(env)]);
    await waitUntil(() => receiver.deliveredFor(id), {
      what: 'the events of before the restart delivered by the new instances',
      timeoutMs: 10_000,
      until: (m) => m.has('user.registered') && m.has('login.succeeded'),
    });
  });
});
