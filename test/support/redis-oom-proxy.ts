import { createConnection, createServer, Server, Socket } from 'node:net';

/**
 * Commands a Redis server refuses with `-OOM` when it is out of memory under `noeviction` (those
 * flagged `denyoom`, scripts included): what the service sends that can grow memory.
 */
const DENY_OOM = new Set([
  'set',
  'setex',
  'psetex',
  'setnx',
  'mset',
  'msetnx',
  'getset',
  'append',
  'incr',
  'incrby',
  'incrbyfloat',
  'decr',
  'decrby',
  'sadd',
  'hset',
  'hsetnx',
  'hmset',
  'hincrby',
  'lpush',
  'rpush',
  'zadd',
  'zincrby',
  'pfadd',
  'xadd',
  'eval',
  'evalsha',
  'fcall',
]);
const OOM_ERROR = Buffer.from("-OOM command not allowed when used memory > 'maxmemory'.\r\n");
const EXEC_ABORT = Buffer.from('-EXECABORT Transaction discarded because of previous errors.\r\n');
const DISCARD = Buffer.from('*1\r\n$7\r\nDISCARD\r\n');
const SUBSCRIBE = new Set(['subscribe', 'psubscribe', 'ssubscribe']);

/** A reply owed to the client, in order: one we answer ourselves, or the server's next one. */
type Slot = { local: Buffer } | { upstream: true; reply?: Buffer; replace?: Buffer };

/**
 * A loopback proxy in front of a real Redis that, when `oom` is on, answers like a server out of
 * memory under `noeviction`: every write command (DENY_OOM) gets `-OOM …` without reaching the
 * server, a MULTI that queued one ends in `-EXECABORT`, and reads, DEL and PUBLISH go through.
 * It reads the RESP stream both ways to keep replies in order under pipelining; a connection that
 * subscribes is passed through untouched from then on (subscribers send no writes).
 */
export class RedisOomProxy {
  oom = false;
  /** Commands refused so far. */
  refused = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly target: { host: string; port: number },
    readonly port: number,
  ) {}

  static async forUrl(url: string): Promise<RedisOomProxy> {
    const parsed = new URL(url);
    const target = { host: parsed.hostname, port: parsed.port ? Number(parsed.port) : 6379 };
    const ref: { proxy?: RedisOomProxy } = {};
    const server = createServer((socket) => ref.proxy?.accept(socket));
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: 0, host: '127.0.0.1' }, () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
    ref.proxy = new RedisOomProxy(server, target, port);
    return ref.proxy;
  }

  /** `url` with its host and port replaced by this proxy's. */
  url(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const upstream = createConnection(this.target);
    this.sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
    const slots: Slot[] = [];
    let fromClient = Buffer.alloc(0);
    let fromServer = Buffer.alloc(0);
    let passthrough = false;
    let inMulti = false;
    let multiRefused = false;

    const flush = () => {
      while (slots.length > 0) {
        const slot = slots[0]!;
        if ('local' in slot) client.write(slot.local);
        else if (slot.reply) client.write(slot.replace ?? slot.reply);
        else return;
        slots.shift();
      }
    };

    client.on('data', (chunk: Buffer) => {
      if (passthrough) return void upstream.write(chunk);
      fromClient = Buffer.concat([fromClient, chunk]);
      for (;;) {
        const length = valueLength(fromClient, 0);
        if (length < 0) return;
        const command = fromClient.subarray(0, length);
        fromClient = fromClient.subarray(length);
        const name = commandName(command);
        if (SUBSCRIBE.has(name)) {
          // From here on the server pushes messages: no more request/reply pairing.
          passthrough = true;
          flush();
          upstream.write(Buffer.concat([command, fromClient]));
          fromClient = Buffer.alloc(0);
          return;
        }
        if (this.oom && DENY_OOM.has(name)) {
          this.refused++;
          if (inMulti) multiRefused = true;
          slots.push({ local: OOM_ERROR });
          flush();
          continue;
        }
        if (name === 'multi') inMulti = true;
        if ((name === 'exec' || name === 'discard') && inMulti) {
          inMulti = false;
          if (name === 'exec' && multiRefused) {
            multiRefused = false;
            slots.push({ upstream: true, replace: EXEC_ABORT });
            upstream.write(DISCARD);
            continue;
          }
          multiRefused = false;
        }
        slots.push({ upstream: true });
        upstream.write(command);
      }
    });

    // Replies fill the oldest slot waiting for one; anything else (a subscriber's messages) goes straight on.
    upstream.on('data', (chunk: Buffer) => {
      fromServer = Buffer.concat([fromServer, chunk]);
      for (;;) {
        const length = valueLength(fromServer, 0);
        if (length < 0) break;
        const reply = fromServer.subarray(0, length);
        fromServer = fromServer.subarray(length);
        const slot = slots.find((s): s is Extract<Slot, { upstream: true }> => 'upstream' in s && !s.reply);
        if (slot) slot.reply = reply;
        else client.write(reply);
      }
      flush();
    });
  }
}

/** The lower-cased name of a RESP command (an array whose first element is a bulk string). */
function commandName(command: Buffer): string {
  const text = command.subarray(0, 64).toString('latin1');
  const match = /^\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n/.exec(text);
  return match?.[1]?.toLowerCase() ?? '';
}

/** The byte length of the complete RESP2/RESP3 value at `offset`, or -1 when more bytes are needed. */
function valueLength(buffer: Buffer, offset: number): number {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return -1;
  const type = String.fromCharCode(buffer[offset]!);
  const header = buffer.subarray(offset + 1, lineEnd).toString('latin1');
  const afterLine = lineEnd + 2 - offset;
  switch (type) {
    case '$':
    case '=':
    case '!': {
      const size = Number(header);
      if (size < 0) return afterLine;
      const total = afterLine + size + 2;
      return buffer.length - offset >= total ? total : -1;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      const count = Number(header) * (type === '%' || type === '|' ? 2 : 1);
      let length = afterLine;
      for (let i = 0; i < count; i++) {
        const element = valueLength(buffer, offset + length);
        if (element < 0) return -1;
        length += element;
      }
      return length;
    }
    default:
      // Simple string, error, integer, null, boolean, double, big number: one line.
      return afterLine;
  }
}
