import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import type { FailMode, ReceivedMessage, VendorHarness } from '@tessera/provider-core/testing';

export interface SinkMessage extends ReceivedMessage {
  mail: ParsedMail;
}

/** A real local SMTP server (smtp-server) that parses what it receives with mailparser. */
export class SmtpSink implements VendorHarness {
  readonly received: SinkMessage[] = [];
  attempts = 0;
  url = '';
  port = 0;
  private readonly failures: FailMode[] = [];
  private readonly server: SMTPServer;

  constructor(credentials?: { user: string; password: string }) {
    this.server = new SMTPServer({
      authOptional: !credentials,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      size: 10 * 1024 * 1024,
      onAuth: (auth, _session, callback) => {
        if (credentials && auth.username === credentials.user && auth.password === credentials.password) return callback(null, { user: auth.username });
        callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
      },
      onRcptTo: (address: SMTPServerAddress, _session, callback) => {
        this.attempts++;
        const mode = this.failures.shift();
        if (mode === 'timeout') return; // never answers: the client's socket timeout must fire
        if (mode === 'reject') return callback(Object.assign(new Error(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`), { responseCode: 550 }));
        if (mode === 'unavailable') return callback(Object.assign(new Error('4.3.2 Service currently unavailable, try again later'), { responseCode: 451 }));
        callback();
      },
      onData: (stream, session, callback) => {
        simpleParser(stream)
          .then((mail) => {
            const messageId = mail.messageId ?? '';
            this.received.push({ to: session.envelope.rcptTo[0]?.address ?? '', idempotencyKey: messageId.replace(/^<|@.*$/g, ''), providerMessageId: messageId, raw: mail, mail });
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
  }

  failNext(mode: FailMode, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(mode);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    this.url = `smtp://127.0.0.1:${this.port}`;
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
