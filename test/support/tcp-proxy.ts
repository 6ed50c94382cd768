import { createConnection, createServer, Server, Socket } from 'node:net';

export type TcpProxyMode = 'open' | 'paused' | 'cut';

interface Pair {
  client: Socket;
  /** Absent while a connection accepted in `paused` mode waits to be forwarded. */
  upstream?: Socket;
  /**
   * Whether both directions are piped. A second pipe() of the same pair would forward every byte
   * twice: the server runs each command twice and the client reads replies no command asked for
   * (ioredis then throws from its socket handler).
   */
  piped: boolean;
}

/**
 * A loopback TCP proxy in front of a real server (PostgreSQL, Redis, …) that a test can break on
 * purpose:
 * - `cut()`: stop listening and destroy every open connection: the server looks down
 *   (new connections are refused, open ones reset);
 * - `pause()`: keep accepting connections but forward no byte either way: the server hangs;
 * - `restore()`: listen again on the SAME port and forward again (bytes held while paused flow on).
 *
 * Point the service at `proxy.url(realUrl)` instead of the real URL.
 */
export class TcpProxy {
  private server: Server;
  private readonly pairs = new Set<Pair>();
  private mode: TcpProxyMode = 'open';
  private accepted = 0;

  private constructor(
    readonly targetHost: string,
    readonly targetPort: number,
    readonly port: number,
    server: Server,
  ) {
    this.server = server;
  }

  /** Starts forwarding 127.0.0.1:<free port> to `target`, e.g. `{ host: '127.0.0.1', port: 5432 }`. */
  static async start(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
    const proxyRef: { current?: TcpProxy } = {};
    const server = createServer((socket) => proxyRef.current!.accept(socket));
    const actualPort = await listen(server, port);
    const proxy = new TcpProxy(target.host, target.port, actualPort, server);
    proxyRef.current = proxy;
    return proxy;
  }

  /** A proxy in front of the host and port of `url` (postgresql://… or redis://…). */
  static forUrl(url: string): Promise<TcpProxy> {
    const parsed = new URL(url);
    const defaultPort = parsed.protocol.startsWith('redis') ? 6379 : 5432;
    return TcpProxy.start({
      host: parsed.hostname.replace(/^\[|\]$/g, ''),
      port: parsed.port ? Number(parsed.port) : defaultPort,
    });
  }

  /** `url` with its host and port replaced by this proxy's; user, password, path and query are kept. */
  url(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  get state(): TcpProxyMode {
    return this.mode;
  }

  /** Connections currently open through the proxy (forwarded or held). */
  get openConnections(): number {
    return this.pairs.size;
  }

  /** Connections accepted since the start. */
  get acceptedConnections(): number {
    return this.accepted;
  }

  /** The server goes away: no more listening, every open connection destroyed. */
  async cut(): Promise<void> {
    this.mode = 'cut';
    const closed = new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
    for (const pair of [...this.pairs]) this.destroy(pair);
    await closed;
  }

  /**
   * The server hangs: connections are still accepted (and open ones kept) but no byte is forwarded
   * in either direction until `restore()`.
   */
  async pause(): Promise<void> {
    if (this.mode === 'cut') await this.relisten();
    this.mode = 'paused';
    for (const pair of this.pairs) {
      pair.piped = false;
      pair.client.unpipe();
      pair.client.pause();
      if (pair.upstream) {
        pair.upstream.unpipe();
        pair.upstream.pause();
      }
    }
  }

  /**
   * Back to normal on the same port; connections held while paused are forwarded from where they
   * stopped. Harmless on an open link (an afterEach may restore whatever the test did).
   */
  async restore(): Promise<void> {
    if (this.mode === 'cut') await this.relisten();
    this.mode = 'open';
    for (const pair of [...this.pairs]) this.forward(pair);
  }

  /** Stops everything for good (use in afterAll). */
  async close(): Promise<void> {
    await this.cut();
  }

  private async relisten(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    await listen(server, this.port);
    this.server = server;
  }

  private accept(client: Socket): void {
    if (this.mode === 'cut') {
      client.destroy();
      return;
    }
    this.accepted += 1;
    const pair: Pair = { client, piped: false };
    this.pairs.add(pair);
    client.setNoDelay(true);
    client.on('error', () => this.destroy(pair));
    client.on('close', () => this.destroy(pair));
    if (this.mode === 'paused') {
      client.pause();
      return;
    }
    this.forward(pair);
  }

  private forward(pair: Pair): void {
    if (!this.pairs.has(pair) || pair.piped) return;
    pair.piped = true;
    if (!pair.upstream) {
      const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
      upstream.setNoDelay(true);
      upstream.on('error', () => this.destroy(pair));
      upstream.on('close', () => this.destroy(pair));
      pair.upstream = upstream;
    }
    pair.client.pipe(pair.upstream);
    pair.upstream.pipe(pair.client);
    pair.client.resume();
    pair.upstream.resume();
  }

  private destroy(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
