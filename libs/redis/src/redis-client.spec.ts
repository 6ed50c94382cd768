import { AddressInfo, createServer, Server, Socket } from 'node:net';
import type Redis from 'ioredis';
import { createRedisClient, redisSecurity } from './redis-client';
import { redisConfigured, RedisOptions } from './redis.options';

const base: RedisOptions = {
  mode: 'standalone',
  nodes: [],
  sentinels: [],
  sentinelName: 'mymaster',
  commandTimeoutMs: 100,
};

describe('Redis connection options', () => {
  it('connects in cluster and sentinel mode with the node list alone; standalone needs the URL', () => {
    expect(redisConfigured({ ...base, mode: 'cluster', nodes: ['10.0.0.1:6379'] })).toBe(true);
    expect(redisConfigured({ ...base, mode: 'sentinel', sentinels: ['10.0.0.1:26379'] })).toBe(true);
    expect(redisConfigured(base)).toBe(false);
    expect(redisConfigured({ ...base, url: 'redis://cache:6379' })).toBe(true);
  });

  it("takes credentials and TLS from the URL, the options' own winning", () => {
    expect(redisSecurity({ ...base, url: 'rediss://app:p%40ss@cache:6380' })).toEqual({
      username: 'app',
      password: 'p@ss',
      tls: {},
    });
    expect(
      redisSecurity({ ...base, url: 'redis://app:old@cache', username: 'svc', password: 'new' }),
    ).toEqual({ username: 'svc', password: 'new' });
  });

  it('applies a password, an ACL user, TLS and its CA in cluster mode without any URL', () => {
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    expect(
      redisSecurity({ ...base, mode: 'cluster', username: 'svc', password: 'pw', tls: true, tlsCa: ca }),
    ).toEqual({ username: 'svc', password: 'pw', tls: { ca } });
    expect(redisSecurity({ ...base, mode: 'cluster', password: 'pw' })).toEqual({ password: 'pw' });
  });
});

describe('a Sentinel client whose reconnection is aborted', () => {
  /**
   * A "sentinel" that hangs up on every connection: a client asking it for the master keeps
   * retrying, 'connecting' all along, as while a dead master has not been replaced yet.
   */
  let silent: Server;
  let port: number;

  beforeAll(async () => {
    silent = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  const sentinelClient = () =>
    createRedisClient({ ...base, mode: 'sentinel', sentinels: [`127.0.0.1:${port}`] }) as Redis;
  /** What the failover detector does when it hears +switch-master: disconnect the connector itself. */
  const abortAsTheDetectorDoes = (client: Redis) =>
    (client as unknown as { connector: { disconnect(): void } }).connector.disconnect();
  const statusAfter = async (client: Redis, ms: number) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return client.status;
  };

  it('connects again instead of staying ended (ioredis would give it up for good)', async () => {
    const client = sentinelClient();
    client.on('error', () => undefined);
    try {
      expect(client.status).toBe('connecting');
      abortAsTheDetectorDoes(client);
      expect(await statusAfter(client, 100)).toBe('end');
      expect(await statusAfter(client, 1_000)).toBe('connecting');
    } finally {
      client.disconnect();
    }
  });

  it('stays ended when disconnect() asked for it', async () => {
    const client = sentinelClient();
    client.on('error', () => undefined);
    client.disconnect();
    expect(await statusAfter(client, 1_000)).toBe('end');
  });
});

describe('a client whose replies come out of step with its commands', () => {
  /**
   * A Redis stand-in that answers the first PING of its first connection twice (as a link that
   * forwards bytes twice would), and every other command once: CLIENT and SELECT +OK, INFO a
   * loaded server, PING +PONG.
   */
  let server: Server;
  let port: number;
  let connections = 0;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      answer(socket, ++connections === 1);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** Resolves at the client's next 'ready'; rejects after a second without one. */
  const nextReady = (client: Redis) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no ready within 1 s')), 1_000);
      client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });

  function answer(socket: Socket, doublePing: boolean): void {
    let pending = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      for (let command = takeCommand(); command; command = takeCommand()) {
        const name = command[0]!.toUpperCase();
        if (name === 'PING') {
          socket.write(doublePing ? '+PONG\r\n+PONG\r\n' : '+PONG\r\n');
          doublePing = false;
        } else if (name === 'INFO') {
          const info = '# Server\r\nredis_version:7.2.0\r\nloading:0\r\n';
          socket.write(`$${info.length}\r\n${info}\r\n`);
        } else socket.write('+OK\r\n');
      }
    });
    /** The next whole command (a RESP array of bulk strings) from what has arrived, if any. */
    function takeCommand(): string[] | undefined {
      const lines = pending.split('\r\n');
      const count = Number(lines[0]!.slice(1));
      if (!lines[0]!.startsWith('*') || lines.length < 1 + 2 * count + 1) return undefined;
      const args = Array.from({ length: count }, (_, i) => lines[2 + 2 * i]!);
      pending = lines.slice(1 + 2 * count).join('\r\n');
      return args;
    }
  }

  it('drops that connection and opens another, whose replies are its own', async () => {
    const client = createRedisClient({ ...base, url: `redis://127.0.0.1:${port}` }) as Redis;
    const errors: string[] = [];
    client.on('error', (error: Error) => errors.push(error.message));
    try {
      await nextReady(client);
      expect(await client.ping()).toBe('PONG');
      await nextReady(client);
      expect(connections).toBe(2);
      expect(errors).toEqual([expect.stringMatching(/^Command queue state error/)]);
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });
});
