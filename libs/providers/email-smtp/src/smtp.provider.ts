import { Type } from 'class-transformer';
import { IsBoolean, IsEmail, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { connect, type Socket } from 'node:net';
import { createTransport, type Transporter } from 'nodemailer';
import { defineProvider, EmailProvider, ProviderError, type EmailMessage, type SendResult } from '@tessera/provider-core';

export class SmtpOptions {
  @IsString()
  @MaxLength(255)
  host!: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  port: number = 587;

  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  @IsOptional()
  @IsBoolean()
  secure: boolean = false;

  /** Refuse to send without STARTTLS (set false only for local sinks). */
  @IsOptional()
  @IsBoolean()
  requireTls: boolean = true;

  @IsOptional()
  @IsString()
  @MaxLength(255)
  user?: string;

  @IsOptional()
  @IsString()
  @MaxLength(1024)
  password?: string;

  @IsEmail()
  from!: string;

  /** Pooled connections kept open to the server. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(50)
  maxConnections: number = 5;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(120_000)
  timeoutMs: number = 30_000;
}

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

/** SMTP reply codes: 5xx is final, 4xx is "try again later"; auth failures are final. */
export function classifySmtpError(error: SmtpFailure): ProviderError {
  const reason = error.response ?? error.message ?? 'SMTP error';
  if (error.code === 'EAUTH') return new ProviderError('permanent', reason, { status: error.responseCode, vendorCode: error.code });
  if (error.responseCode && error.responseCode >= 500) return new ProviderError('permanent', reason, { status: error.responseCode });
  return new ProviderError('transient', reason, { status: error.responseCode, vendorCode: error.code });
}

/** Email over SMTP with nodemailer's pooled transport. */
export class SmtpEmailProvider extends EmailProvider {
  private readonly transport: Transporter;
  private readonly domain: string;

  constructor(private readonly options: SmtpOptions) {
    super();
    this.domain = options.from.split('@')[1] ?? 'tessera.local';
    this.transport = createTransport({
      pool: true,
      host: options.host,
      port: options.port,
      secure: options.secure,
      requireTLS: !options.secure && options.requireTls,
      ignoreTLS: !options.secure && !options.requireTls,
      auth: options.user ? { user: options.user, pass: options.password ?? '' } : undefined,
      maxConnections: options.maxConnections,
      maxMessages: Infinity,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      // nodemailer writes headers and body separately; with Nagle on, the body waits for the
      // server's delayed ACK (~40 ms a message). We open plain connections ourselves with
      // noDelay (STARTTLS still upgrades them); implicit TLS (secure) keeps nodemailer's own.
      ...(options.secure ? {} : { getSocket: (_o: unknown, callback: SocketCallback) => openNoDelay(options.host, options.port, options.timeoutMs, callback) }),
    });
  }

  async send(message: EmailMessage): Promise<SendResult> {
    const headers: Record<string, string> = { ...message.headers };
    if (message.unsubscribeUrl) {
      // RFC 8058 one-click: mailbox providers POST "List-Unsubscribe=One-Click" to the URL.
      headers['List-Unsubscribe'] = `<${message.unsubscribeUrl}>`;
      headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
    }
    try {
      const info = await this.transport.sendMail({
        from: message.from ?? this.options.from,
        to: message.to,
        subject: message.subject,
        html: message.html,
        text: message.text,
        headers,
        // A stable Message-ID derived from our key: a resend after a lost reply is recognisable downstream.
        messageId: `<${message.idempotencyKey}@${this.domain}>`,
      });
      return { providerMessageId: String(info.messageId) };
    } catch (error) {
      throw classifySmtpError(error as SmtpFailure);
    }
  }

  override async close(): Promise<void> {
    this.transport.close();
  }
}

type SocketCallback = (err: Error | null, socketOptions?: { connection: Socket }) => void;

function openNoDelay(host: string, port: number, timeoutMs: number, callback: SocketCallback): void {
  const socket = connect({ host, port, noDelay: true });
  const timer = setTimeout(() => socket.destroy(Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT' })), timeoutMs);
  socket.once('connect', () => {
    clearTimeout(timer);
    socket.removeAllListeners('error');
    coalesceWrites(socket);
    callback(null, { connection: socket });
  });
  socket.once('error', (error) => {
    clearTimeout(timer);
    callback(Object.assign(error, { code: (error as { code?: string }).code ?? 'ECONNECTION' }));
  });
}

/**
 * nodemailer writes a message as many small chunks (commands, header lines, body parts); with
 * noDelay each would cost its own syscall and packet. Corking until the end of the tick sends what
 * one tick writes in a single writev, without bringing back Nagle's wait.
 */
function coalesceWrites(socket: Socket): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((...args: unknown[]): boolean => {
    if (!socket.writableCorked) {
      socket.cork();
      process.nextTick(() => socket.uncork());
    }
    return write(...args);
  }) as Socket['write'];
}

export const smtpEmail = defineProvider({
  id: 'smtp',
  channel: 'email',
  optionsSchema: SmtpOptions,
  secretOptions: ['password'],
  create: (options) => new SmtpEmailProvider(options),
});
