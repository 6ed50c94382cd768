import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';
import { TcpProxy } from './tcp-proxy';

describe('TcpProxy', () => {
  /** An echo server that also records every byte it received. */
  let echo: Server;
  let serverSaw = '';
  let proxy: TcpProxy;
  let client: Socket;
  let clientSaw = '';

  beforeEach(async () => {
    serverSaw = '';
    clientSaw = '';
    echo = createServer((socket) =>
      socket.on('data', (chunk) => {
        serverSaw += chunk.toString();
        socket.write(chunk);
      }),
    );
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    proxy = await TcpProxy.start({ host: '127.0.0.1', port: (echo.address() as AddressInfo).port });
    client = createConnection({ host: '127.0.0.1', port: proxy.port });
    client.on('data', (chunk) => (clientSaw += chunk.toString()));
    await send('a');
  });
  afterEach(async () => {
    client.destroy();
    await proxy.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  /** Writes `text` and waits for the echo of everything written so far (and a little more, for duplicates). */
  async function send(text: string): Promise<void> {
    const expected = clientSaw.length + text.length;
    client.write(text);
    const deadline = Date.now() + 2_000;
    while (clientSaw.length < expected && Date.now() < deadline) await sleep(5);
    await sleep(50);
  }

  it('forwards every byte once after restore() of a link that was open (an afterEach restoring anyway)', async () => {
    await proxy.restore();
    await proxy.restore();
    await send('b');
    expect({ serverSaw, clientSaw }).toEqual({ serverSaw: 'ab', clientSaw: 'ab' });
  });

  it('forwards every byte once after pause() then restore(), the held bytes included', async () => {
    await proxy.pause();
    client.write('b');
    await sleep(50);
    expect(serverSaw).toBe('a');
    await proxy.restore();
    await send('c');
    expect({ serverSaw, clientSaw }).toEqual({ serverSaw: 'abc', clientSaw: 'abc' });
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
