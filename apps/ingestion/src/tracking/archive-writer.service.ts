import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, nanos, type ConsumerMessages, type JsMsg } from 'nats';
import { EVENT_BUS, type JetStreamBus } from '@tessera/bus';
import { EVENT_RECEIVED_V1, INGESTION_EVENTS } from '@tessera/contracts';
import { IngestRepository } from './ingest.repository';

/** Durable consumer of ingestion's own stream that fills the archive (shared by all replicas). */
export const ARCHIVE_CONSUMER = 'ingestion-archive';
/** Most messages written per statement. */
const MAX_BATCH = 2000;
/**
 * How long a write waits for more messages while fewer than MAX_BATCH are buffered. At a trickle
 * (single /v1/track calls) a statement then carries tens of rows instead of one or two: each
 * statement costs Postgres a commit and an executor start over every partition.
 */
const LINGER_MS = 20;
const RETRY_MS = 1000;

const encoder = new TextEncoder();
const COMMA = encoder.encode(',');
const CLOSE = encoder.encode('}');

/**
 * Writes every event ingestion published into the archive, off the request path: a request is
 * answered once JetStream stored its events, and this consumer of ingestion's own stream copies
 * them into Postgres in large multi-row statements, acking each message only after its row is
 * committed (so the archive is as durable as the stream). The archive is also the de-dup ledger
 * (IngestService looks messageIds up in it); until a row lands, JetStream's duplicate window
 * (same event id = Nats-Msg-Id) catches retries, and `lagMs` lets IngestService refuse work
 * before the archive falls behind that window.
 *
 * It reads the raw bytes and never parses an envelope in JavaScript: Postgres parses the JSON
 * once anyway to store it as jsonb, and extracts the indexed columns there.
 */
@Injectable()
export class ArchiveWriter implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('archive-writer');
  private readonly subjects: Set<string>;
  private readonly statusSubject: string;
  private messages?: ConsumerMessages;
  private buffer: JsMsg[] = [];
  private writing?: Promise<void>;
  private stopped = false;
  private running?: Promise<void>;
  /** JetStream time (ms) of the oldest message this replica holds unwritten (undefined: none). */
  private oldestPendingMs?: number;
  /** Ends the current linger early (MAX_BATCH messages have arrived). */
  private endLinger?: () => void;

  constructor(
    @Inject(EVENT_BUS) private readonly bus: JetStreamBus,
    private readonly repository: IngestRepository,
  ) {
    this.subjects = new Set(Object.keys(INGESTION_EVENTS).map((s) => bus.naming.subject(s)));
    // The one contract without a receivedAt of its own: its row takes the time JetStream stored it.
    this.statusSubject = bus.naming.subject('ingestion.delivery_status.received.v1');
  }

  async onApplicationBootstrap(): Promise<void> {
    const naming = this.bus.naming;
    const stream = naming.stream(naming.streamOf(EVENT_RECEIVED_V1.subject).name);
    const jsm = await this.bus.connection().jetstreamManager();
    const config = {
      durable_name: ARCHIVE_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      // From its creation on: events before it were archived by the release that accepted them.
      deliver_policy: DeliverPolicy.New,
      filter_subject: naming.subject('ingestion.>'),
      ack_wait: nanos(60_000),
      max_ack_pending: 4 * MAX_BATCH,
    };
    // Created by the first replica; later starts only update what may change.
    await jsm.consumers.add(stream, config).catch(async () => jsm.consumers.update(stream, ARCHIVE_CONSUMER, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending }));
    const consumer = await this.bus.connection().jetstream().consumers.get(stream, ARCHIVE_CONSUMER);
    // Callback delivery: no async-iterator step (promise and microtask) per message.
    this.running = this.loop(async () => (this.messages = await consumer.consume({ max_messages: 2 * MAX_BATCH, callback: (m) => this.receive(m) })));
  }

  /** Finishes the write in progress before the pool and the bus close; unwritten messages are redelivered. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.messages?.stop();
    await this.running;
    await this.writing;
    for (const m of this.buffer) m.nak();
    this.buffer = [];
  }

  /**
   * Waits (at most `timeoutMs`) until every event in the stream is archived, as the server counts
   * it for all replicas: nothing pending and nothing unacknowledged. The archive API calls it, so
   * a read right after a 200 sees that event.
   */
  async caughtUp(timeoutMs = 2000): Promise<boolean> {
    const naming = this.bus.naming;
    const stream = naming.stream(naming.streamOf(EVENT_RECEIVED_V1.subject).name);
    const jsm = await this.bus.connection().jetstreamManager();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await jsm.consumers.info(stream, ARCHIVE_CONSUMER);
      if (info.num_pending === 0 && info.num_ack_pending === 0) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** How long the oldest event this replica received but has not archived yet has waited (ms). */
  lagMs(now = Date.now()): number {
    return this.oldestPendingMs === undefined ? 0 : Math.max(0, now - this.oldestPendingMs);
  }

  private async loop(open: () => Promise<ConsumerMessages>): Promise<void> {
    while (!this.stopped) {
      try {
        const error = await (await open()).closed();
        if (this.stopped) break;
        throw error ?? new Error('the consumer stopped');
      } catch (error) {
        if (this.stopped) break;
        this.logger.error({ err: error }, 'archive consumer failed; restarting in 1 s');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  private receive(m: JsMsg): void {
    this.buffer.push(m);
    this.oldestPendingMs ??= m.info.timestampNanos / 1e6;
    if (this.buffer.length >= MAX_BATCH) this.endLinger?.();
    this.kick();
  }

  /** Starts draining unless a drain runs; a drain that ends re-checks, so no message waits for the next one. */
  private kick(): void {
    if (this.writing || !this.buffer.length || this.stopped) return;
    this.writing = this.drain().then(
      () => {
        this.writing = undefined;
        this.kick();
      },
      (error: unknown) => {
        this.writing = undefined;
        this.logger.error({ err: error }, 'archive write failed; retrying in 1 s');
        setTimeout(() => this.kick(), RETRY_MS).unref();
      },
    );
  }

  /** Writes what has arrived, in batches; messages that arrive meanwhile form the next batch. */
  private async drain(): Promise<void> {
    while (this.buffer.length && !this.stopped) {
      if (this.buffer.length < MAX_BATCH) await this.linger();
      if (this.stopped) return;
      const batch = this.buffer.splice(0, MAX_BATCH);
      await this.write(batch);
      // The oldest message this replica still holds (delivery is in stream order); none: not behind.
      this.oldestPendingMs = this.buffer.length ? this.buffer[0]!.info.timestampNanos / 1e6 : undefined;
    }
  }

  /** Waits LINGER_MS, or less if MAX_BATCH messages arrive meanwhile. */
  private linger(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.endLinger = undefined;
        resolve();
      };
      const timer = setTimeout(done, LINGER_MS);
      this.endLinger = done;
    });
  }

  private async write(batch: JsMsg[]): Promise<void> {
    const rows = batch.filter((m) => this.subjects.has(m.subject));
    for (;;) {
      try {
        if (rows.length) await this.repository.archiveEnvelopes(this.document(rows));
        for (const m of batch) m.ack();
        return;
      } catch (error) {
        if (isDataError(error)) return this.writeOneByOne(batch, rows);
        if (this.stopped) return;
        this.logger.warn({ err: error, events: rows.length }, 'archive write failed; retrying in 1 s');
        for (const m of batch) m.working();
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  /** A statement refused for its data: find the message(s) at fault, keep the rest. */
  private async writeOneByOne(batch: JsMsg[], rows: JsMsg[]): Promise<void> {
    for (const m of rows) {
      try {
        await this.repository.archiveEnvelopes(this.document([m]));
      } catch (error) {
        if (!isDataError(error)) throw error;
        // Only ingestion publishes here, so this is a bug, not traffic: loud, and the event stays in the stream.
        this.logger.error({ err: error, subject: m.subject, seq: m.seq, msgId: m.headers?.get('Nats-Msg-Id') }, 'event cannot be archived; skipped');
        m.term();
      }
    }
    for (const m of batch) m.ack();
  }

  /** `[{"e":<envelope>},{"t":<stored ms>,"e":<envelope>},...]` from the raw bytes, without parsing them. */
  private document(rows: JsMsg[]): string {
    const parts: Uint8Array[] = [encoder.encode('[')];
    rows.forEach((m, i) => {
      if (i) parts.push(COMMA);
      parts.push(encoder.encode(m.subject === this.statusSubject ? `{"t":${Math.floor(m.info.timestampNanos / 1e6)},"e":` : '{"e":'), m.data, CLOSE);
    });
    parts.push(encoder.encode(']'));
    return Buffer.concat(parts).toString('utf8');
  }
}

/** Postgres refused the data itself (classes 22 and 23), not the connection: retrying cannot help. */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
