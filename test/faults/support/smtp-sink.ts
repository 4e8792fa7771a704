import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';

/** One message the sink took in full (as a real MTA queues it: before its reply reaches the client). */
export interface Received {
  to: string[];
  /** the Message-ID header: what a receiver dedupes by */
  messageId: string;
  subject: string;
}

/**
 * Where an SMTP transaction can be held until the test lets it go: after RCPT TO (the message not
 * sent yet: a client killed there leaves nothing behind), or after the whole message arrived but
 * before the server's "250 OK" (a client killed there has delivered the message without knowing it).
 */
export type HoldPoint = 'rcpt' | 'data-end';

/** A local SMTP server (smtp-server) that keeps every message it took, and can hold transactions. */
export class SmtpSink {
  readonly received: Received[] = [];
  /** recipient address → where its transactions stop until `release()` */
  readonly holds = new Map<string, HoldPoint>();
  /** transactions held right now, by recipient */
  readonly held = new Map<string, HoldPoint>();
  /** each message is answered after this long (a slow server keeps jobs active) */
  delayMs = 0;
  private releases: (() => void)[] = [];
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo: (address, _session, cb) => void this.pass('rcpt', [address.address]).then(() => cb()),
    onData: (stream: SMTPServerDataStream, session, cb) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const to = session.envelope.rcptTo.map((r) => r.address);
        this.received.push({ to, messageId: header(raw, 'Message-ID'), subject: header(raw, 'Subject') });
        void this.pass('data-end', to)
          .then(() => (this.delayMs ? new Promise((resolve) => setTimeout(resolve, this.delayMs)) : undefined))
          .then(() => cb());
      });
    },
  });

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.server.address() as { port: number }).port;
  }

  /** Lets every held transaction go on (a client that died meanwhile just gets no answer). */
  release(): void {
    this.holds.clear();
    for (const r of this.releases.splice(0)) r();
  }

  /** copies received per Message-ID */
  copies(): Map<string, number> {
    const m = new Map<string, number>();
    for (const r of this.received) m.set(r.messageId, (m.get(r.messageId) ?? 0) + 1);
    return m;
  }

  close(): Promise<void> {
    this.release();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private pass(point: HoldPoint, to: string[]): Promise<void> {
    const who = to.find((a) => this.holds.get(a) === point);
    if (!who) return Promise.resolve();
    this.held.set(who, point);
    return new Promise((resolve) => this.releases.push(resolve));
  }
}

function header(raw: string, name: string): string {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
  return new RegExp(`^${name}:\\s*(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(head)?.[1]?.replace(/\r?\n[ \t]+/g, ' ').trim() ?? '';
}
