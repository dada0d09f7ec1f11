import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a fake vendor can be told to do with the next requests. */
export type FailMode = 'reject' | 'unavailable' | 'timeout';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A message the fake vendor accepted, normalised for the conformance suite. */
export interface ReceivedMessage {
  to: string;
  idempotencyKey?: string;
  providerMessageId: string;
  raw: unknown;
}

/** What the conformance suite needs from any fake vendor (HTTP or SMTP). */
export interface VendorHarness {
  /** Base URL (or smtp://host:port) to configure the provider with. */
  readonly url: string;
  readonly received: ReceivedMessage[];
  /** Requests that reached the vendor, failed ones included. */
  readonly attempts: number;
  failNext(mode: FailMode, times?: number): void;
  close(): Promise<void>;
}

export interface VendorReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * A vendor's wire behaviour: `handle` checks auth and shape and answers like the vendor; `failure`
 * gives the vendor's own error answer for an injected failure.
 */
export interface VendorBehaviour {
  handle(request: RecordedRequest, accept: (message: Omit<ReceivedMessage, 'providerMessageId'>, providerMessageId: string) => void): VendorReply;
  failure(mode: 'reject' | 'unavailable', request: RecordedRequest): VendorReply;
}

/** A local HTTP server speaking one vendor's wire format; records what it was sent. */
export class FakeHttpVendor implements VendorHarness {
  readonly received: ReceivedMessage[] = [];
  readonly requests: RecordedRequest[] = [];
  url = '';
  private readonly failures: FailMode[] = [];
  private readonly held = new Set<ServerResponse>();
  private server?: Server;

  constructor(private readonly behaviour: VendorBehaviour) {}

  get attempts(): number {
    return this.requests.length;
  }

  failNext(mode: FailMode, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(mode);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.respond({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }, res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private respond(request: RecordedRequest, res: ServerResponse): void {
    this.requests.push(request);
    const mode = this.failures.shift();
    if (mode === 'timeout') {
      this.held.add(res); // never answered: the client's timeout must fire
      return;
    }
    const reply = mode
      ? this.behaviour.failure(mode, request)
      : this.behaviour.handle(request, (message, providerMessageId) => this.received.push({ ...message, providerMessageId }));
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  }
}

/** Reads a bearer token from a recorded request. */
export function bearerOf(request: RecordedRequest): string | undefined {
  const value = request.headers.authorization;
  return value?.startsWith('Bearer ') ? value.slice(7) : undefined;
}
