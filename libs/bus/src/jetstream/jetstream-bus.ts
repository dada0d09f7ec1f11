import { connect, createInbox, headers as natsHeaders, MsgHdrsImpl, type JetStreamClient, type JetStreamManager, type Msg, type NatsConnection, type Subscription } from 'nats';
import {
  HEADERS,
  requestDefinition,
  validateContract,
  type EventEnvelope,
  type EventMap,
  type EventSubject,
  type ReplyEnvelope,
  type RequestMap,
  type RequestSubject,
  type ResponseMap,
} from '@tessera/contracts';
import { busPublished, injectTraceContext, SpanKind, withSpan, withSpanFromCarrier, type Logger } from '@tessera/observability';
import type { EventBus, PublishMeta, RequestOptions, SerializedEvent } from '../bus.port';
import { buildEnvelope } from '../envelope';
import { PermanentError, RequestError } from '../errors';
import { headersToObject } from './headers';
import { startConsumer, type ConsumerHandle, type ConsumerSpec } from './consumer';
import { BusNaming } from './naming';
import { ensureStreams } from './streams';

export interface JetStreamBusOptions {
  service: string;
  servers: string;
  namespace?: string;
  logger: Logger;
  /** Stream replicas; 3 on a clustered NATS in production. */
  replicas?: number;
}

/** At most this many publish acks are awaited at once by publishEnvelopes. */
const PUBLISH_WINDOW = 256;
const PUBLISH_ACK_TIMEOUT_MS = 10_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type RequestHandler = (data: object, meta: { workspaceId?: string }) => Promise<object>;

/** The JetStream driver of the bus port. */
export class JetStreamBus implements EventBus {
  readonly naming: BusNaming;
  private nc?: NatsConnection;
  private js?: JetStreamClient;
  private jsm?: JetStreamManager;
  private readonly consumers: ConsumerHandle[] = [];
  private readonly subscriptions: Subscription[] = [];

  constructor(private readonly options: JetStreamBusOptions) {
    this.naming = new BusNaming(options.namespace);
  }

  async connect(): Promise<void> {
    if (this.nc) return;
    this.nc = await connect({
      servers: this.options.servers.split(','),
      name: this.options.service,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    this.jsm = await this.nc.jetstreamManager();
    this.js = this.nc.jetstream();
    await ensureStreams(this.jsm, this.naming, this.options.replicas);
    void this.watchStatus(this.nc);
  }

  /** True while the connection to NATS is up (readiness). */
  isConnected(): boolean {
    return !!this.nc && !this.nc.isClosed() && !this.reconnecting;
  }

  private reconnecting = false;

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnecting') this.reconnecting = true;
      if (status.type === 'reconnect') this.reconnecting = false;
      this.options.logger.info({ natsStatus: status.type }, 'nats connection status');
    }
  }

  async publish<S extends EventSubject>(subject: S, data: EventMap[S], meta: PublishMeta): Promise<EventEnvelope<EventMap[S]>> {
    const envelope = buildEnvelope(this.options.service, subject, data, meta);
    await this.publishEnvelopes([envelope]);
    return envelope;
  }

  /** Publishes envelopes to JetStream and resolves once every one is acknowledged (stored). */
  publishEnvelopes(envelopes: EventEnvelope[], traceHeaders: Record<string, string>[] = []): Promise<void> {
    return this.publishEach(envelopes.length, (i) => {
      const envelope = envelopes[i]!;
      const trace = traceHeaders[i] ?? { ...(envelope.traceparent ? { traceparent: envelope.traceparent } : {}), ...(envelope.tracestate ? { tracestate: envelope.tracestate } : {}) };
      return { id: envelope.id, subject: envelope.subject, workspaceId: envelope.workspaceId, body: JSON.stringify(envelope), headers: trace };
    });
  }

  /** Publishes envelopes that are already JSON text (an outbox's rows) without parsing them again. */
  publishSerialized(events: SerializedEvent[]): Promise<void> {
    return this.publishEach(events.length, (i) => events[i]!);
  }

  /**
   * Publishes `count` messages, made on demand by `at`, and resolves once every one is acknowledged
   * (stored), with at most PUBLISH_WINDOW acks awaited at once. Callback-driven: no promise, timer
   * or Error per message (the JetStream client's publish makes all three: measured 4-7x dearer; a
   * promise per message here cost a further ~25%), and the window is refilled in bulk from within
   * the socket read that brought the acks, so publishes go out in few large writes.
   */
  private publishEach(count: number, at: (i: number) => SerializedEvent): Promise<void> {
    if (!count) return Promise.resolve();
    const nc = this.requireNc();
    const acks = this.ackInbox();
    return new Promise<void>((resolve, reject) => {
      const outstanding = new Set<string>();
      const published = new Map<string, number>();
      let next = 0;
      let stored = 0;
      let settled = false;
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        for (const reply of outstanding) acks.waiting.delete(reply);
        for (const [subject, n] of published) busPublished.inc({ subject }, n);
        if (error) reject(error);
        else resolve();
      };
      // One timer for the whole call, not one per message.
      const timer = setTimeout(() => finish(new Error(`JetStream publish: no ack within ${PUBLISH_ACK_TIMEOUT_MS} ms`)), PUBLISH_ACK_TIMEOUT_MS);
      const send = (): void => {
        const event = at(next++);
        const reply = `${acks.prefix}.${acks.seq++}`;
        outstanding.add(reply);
        acks.waiting.set(reply, (ack) => {
          outstanding.delete(reply);
          const error = ackError(ack, event.subject);
          if (error) return finish(error);
          published.set(event.subject, (published.get(event.subject) ?? 0) + 1);
          if (++stored === count) finish();
          // Refill in bulk once half the window is acknowledged: one large socket write instead of one per ack.
          else if (outstanding.size <= PUBLISH_WINDOW / 2) fill();
        });
        try {
          nc.publish(this.naming.subject(event.subject), encoder.encode(event.body), { reply, headers: publishHeaders(event) });
        } catch (error) {
          finish(error as Error);
        }
      };
      const fill = (): void => {
        while (outstanding.size < PUBLISH_WINDOW && next < count && !settled) send();
      };
      fill();
    });
  }

  /** The one wildcard inbox on which JetStream's publish acks arrive, each keyed by its reply subject. */
  private acks?: { prefix: string; waiting: Map<string, (reply: Msg) => void>; seq: number };

  private ackInbox(): { prefix: string; waiting: Map<string, (reply: Msg) => void>; seq: number } {
    if (this.acks) return this.acks;
    const prefix = createInbox();
    const waiting = new Map<string, (reply: Msg) => void>();
    const sub = this.requireNc().subscribe(`${prefix}.*`, {
      callback: (_error, msg) => {
        const resolve = waiting.get(msg.subject);
        if (!resolve) return;
        waiting.delete(msg.subject);
        resolve(msg);
      },
    });
    this.subscriptions.push(sub);
    this.acks = { prefix, waiting, seq: 0 };
    return this.acks;
  }

  async request<S extends RequestSubject>(subject: S, data: RequestMap[S], options: RequestOptions = {}): Promise<ResponseMap[S]> {
    const nc = this.requireNc();
    return withSpan(`${subject} request`, SpanKind.CLIENT, { 'messaging.system': 'nats', 'messaging.destination.name': subject }, async () => {
      const h = natsHeaders();
      for (const [k, v] of Object.entries(injectTraceContext())) h.set(k, v);
      if (options.workspaceId) h.set(HEADERS.workspace, options.workspaceId);
      let reply;
      try {
        reply = await nc.request(this.naming.subject(subject), encoder.encode(JSON.stringify(data)), { timeout: options.timeoutMs ?? 3000, headers: h });
      } catch (error) {
        throw new RequestError('unavailable', `${subject}: no answer (${(error as Error).message})`);
      }
      const answer = JSON.parse(decoder.decode(reply.data)) as ReplyEnvelope<ResponseMap[S]>;
      if (!answer.ok) throw new RequestError(answer.error.code, answer.error.message);
      return answer.result;
    });
  }

  /**
   * Answers a request subject; replicas of a service share requests through a queue group.
   * Resolves once the server has registered the subscription, so a caller right after start-up
   * does not meet "no responders".
   */
  async serve(subject: string, handler: RequestHandler): Promise<void> {
    const nc = this.requireNc();
    const definition = requestDefinition(subject);
    if (!definition) throw new Error(`Unknown request subject ${subject}`);
    const sub = nc.subscribe(this.naming.subject(subject), {
      queue: this.options.service,
      callback: (error, msg) => {
        if (error) return this.options.logger.error({ err: error, subject }, 'request subscription error');
        void (async (): Promise<void> => {
          const carrier = headersToObject(msg.headers);
          const answer = await withSpanFromCarrier(`${subject} process`, SpanKind.SERVER, carrier, { 'messaging.system': 'nats', 'messaging.destination.name': subject }, async () => {
            let body: unknown;
            try {
              body = JSON.parse(decoder.decode(msg.data));
            } catch {
              return failure('invalid_request', 'request body is not JSON');
            }
            const checked = validateContract(definition.request, body);
            if (!checked.ok) return failure('invalid_request', checked.errors.map((e) => `${e.path}: ${e.messages.join(', ')}`).join('; '));
            try {
              const result = await handler(checked.value, { workspaceId: msg.headers?.get(HEADERS.workspace) || undefined });
              return { ok: true as const, result };
            } catch (e) {
              const code = e instanceof RequestError ? e.code : e instanceof PermanentError ? 'rejected' : 'internal';
              if (code === 'internal') this.options.logger.error({ err: e, subject }, 'request handler failed');
              return failure(code, (e as Error).message);
            }
          });
          msg.respond(encoder.encode(JSON.stringify(answer)));
        })();
      },
    });
    this.subscriptions.push(sub);
    await nc.flush();
  }

  /**
   * Every replica of every service sees each event on `subject` (a plain NATS subscription, not a
   * durable consumer): at most once, for fan-out work such as dropping a revoked key from caches.
   */
  onBroadcast(subject: EventSubject, handler: (envelope: EventEnvelope) => void): void {
    const sub = this.requireNc().subscribe(this.naming.subject(subject), {
      callback: (error, msg) => {
        if (error) return;
        try {
          handler(JSON.parse(decoder.decode(msg.data)) as EventEnvelope);
        } catch (e) {
          this.options.logger.warn({ err: e, subject }, 'broadcast handler failed');
        }
      },
    });
    this.subscriptions.push(sub);
  }

  /** Starts a durable pull consumer (created or updated on the server) feeding a handler. */
  async consume(spec: Omit<ConsumerSpec, 'js' | 'jsm' | 'naming' | 'service' | 'logger'>): Promise<void> {
    const handle = await startConsumer({ ...spec, js: this.requireJs(), jsm: this.jsm!, naming: this.naming, service: this.options.service, logger: this.options.logger });
    this.consumers.push(handle);
  }

  /** Stops taking new messages, lets in-flight handlers finish, then closes the connection. */
  async close(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop()));
    for (const sub of this.subscriptions) sub.unsubscribe();
    if (this.nc && !this.nc.isClosed()) await this.nc.drain().catch(() => this.nc?.close());
    this.nc = undefined;
  }

  /** For tests and tools that need the raw connection. */
  connection(): NatsConnection {
    return this.requireNc();
  }

  private requireNc(): NatsConnection {
    if (!this.nc) throw new Error('Bus is not connected');
    return this.nc;
  }

  private requireJs(): JetStreamClient {
    if (!this.js) throw new Error('Bus is not connected');
    return this.js;
  }
}

/**
 * The headers of a published envelope (trace context, workspace, Nats-Msg-Id), written as NATS
 * encodes them in one string: the client's MsgHdrsImpl validates and re-encodes key by key, which
 * cost about as much as serialising the whole ~1 KB envelope.
 */
class PublishHeaders extends MsgHdrsImpl {
  constructor(private readonly bytes: Uint8Array) {
    super();
  }

  override encode(): Uint8Array {
    return this.bytes;
  }
}

/** A header name NATS accepts (printable ASCII, no colon or space); values may not break the line. */
const HEADER_KEY = /^[!-9;-~]+$/;
const LINE_BREAK = /[\r\n]/;

function publishHeaders(event: SerializedEvent): MsgHdrsImpl {
  const entries = Object.entries(event.headers ?? {});
  entries.push([HEADERS.workspace, event.workspaceId], [HEADERS.msgId, event.id]);
  if (entries.some(([k, v]) => !HEADER_KEY.test(k) || LINE_BREAK.test(v))) {
    // Not ours to fix: the client's own headers refuse it with their usual error.
    const h = natsHeaders();
    for (const [k, v] of entries) h.set(k, v);
    return h as MsgHdrsImpl;
  }
  let text = 'NATS/1.0';
  for (const [k, v] of entries) text += `\r\n${k}: ${v.trim()}`;
  return new PublishHeaders(encoder.encode(`${text}\r\n\r\n`));
}

/** Why JetStream did not store a message, from its publish ack; undefined when it did. */
function ackError(ack: Msg, subject: string): Error | undefined {
  if (ack.headers?.code === 503) return new Error(`JetStream publish: no stream stores ${subject}`);
  const text = decoder.decode(ack.data);
  // An ack is {"stream":..,"seq":..}; parse only the rare answer that carries an error.
  if (!text.includes('"error"')) return undefined;
  const answer = JSON.parse(text) as { error?: { description?: string } };
  return answer.error ? new Error(`JetStream refused ${subject}: ${answer.error.description ?? 'unknown error'}`) : undefined;
}

function failure(code: string, message: string): ReplyEnvelope<never> {
  return { ok: false, error: { code, message } };
}
