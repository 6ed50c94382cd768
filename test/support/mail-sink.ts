import { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface SentMail {
  to: string[];
  subject: string;
  text: string;
  /** The HTML alternative, when the mail has one. */
  html?: string;
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
          sinkRef
            .current!.record(
              session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
              Buffer.concat(chunks),
            )
            .then(() => callback(), callback);
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

  /**
   * Decoded by mailparser (nodemailer's own parser): multipart/alternative, quoted-printable and
   * base64 bodies, UTF-8 subjects in encoded words, as a mail client would read them.
   */
  private async record(to: string[], raw: Buffer): Promise<void> {
    const parsed = await simpleParser(raw);
    const html = typeof parsed.html === 'string' ? parsed.html : undefined;
    this.messages.push({
      to,
      subject: parsed.subject ?? '',
      text: (parsed.text ?? '').replace(/\r\n/g, '\n'),
      ...(html === undefined ? {} : { html }),
    });
    this.waiters.splice(0).forEach((w) => w());
  }
}
