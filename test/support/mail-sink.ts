import { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface SentMail {
  to: string[];
  subject: string;
  text: string;
}

/** A real SMTP server on loopback: the service sends through nodemailer exactly as in production. */
export class MailSink {
  readonly messages: SentMail[] = [];
  private waiters: Array<() => void> = [];

  private constructor(private readonly server: SMTPServer) {}

  static async start(): Promise<MailSink> {
    const sinkRef: { current?: MailSink } = {};
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          sinkRef.current!.record(
            session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            Buffer.concat(chunks).toString('utf8'),
          );
          callback();
        });
      },
    });
    const sink = new MailSink(server);
    sinkRef.current = sink;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return sink;
  }

  get url(): string {
    const { port } = this.server.server.address() as AddressInfo;
    return `smtp://127.0.0.1:${port}`;
  }

  /** The newest mail to `to` whose subject matches, waiting up to `timeoutMs` for it. */
  async waitFor(to: string, subject: RegExp, timeoutMs = 5_000): Promise<SentMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = [...this.messages]
        .reverse()
        .find((m) => m.to.includes(to.toLowerCase()) && subject.test(m.subject));
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`No mail to ${to} matching ${subject} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** The single-use token a mail carries on its own line. */
  static tokenOf(mail: SentMail): string {
    const token = /code:\s*\n([A-Za-z0-9_-]{40,})/.exec(mail.text)?.[1];
    if (token === undefined) throw new Error(`No token in mail: ${mail.text}`);
    return token;
  }

  countTo(to: string, subject: RegExp): number {
    return this.messages.filter((m) => m.to.includes(to.toLowerCase()) && subject.test(m.subject)).length;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private record(to: string[], raw: string): void {
    const [head = '', ...rest] = raw.split(/\r?\n\r?\n/); // split yields at least one part
    const subject = /^Subject: (.*)$/im.exec(head)?.[1]?.trim() ?? '';
    const qp = /Content-Transfer-Encoding: quoted-printable/i.test(head);
    let text = rest.join('\n\n');
    if (qp)
      text = text
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    this.messages.push({ to, subject, text: text.replace(/\r\n/g, '\n') });
    this.waiters.splice(0).forEach((w) => w());
  }
}
