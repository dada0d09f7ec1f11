import type { Pool, PoolClient } from 'pg';
import type { EventEnvelope, EventMap, EventSubject } from '@tessera/contracts';
import { outboxLag, type Logger } from '@tessera/observability';
import type { EventBus, PublishMeta, SerializedEvent } from '../bus.port';
import { buildEnvelope } from '../envelope';
import { parseOutboxBatch } from './outbox-batch';

/** A row of a service's `outbox` table, shaped for Prisma's `outboxMessage.createMany({ data })`. */
export interface OutboxRow {
  id: string;
  subject: string;
  envelope: EventEnvelope;
  headers: Record<string, string>;
}

/**
 * Prepares an event for the outbox. The caller writes the row in the same transaction as the state
 * change it announces; the relay publishes it after commit. The trace context of the current
 * operation is kept in the row, so the consumer's span joins the request's trace.
 */
export function outboxRow<S extends EventSubject>(producer: string, subject: S, data: EventMap[S], meta: PublishMeta): OutboxRow {
  const envelope = buildEnvelope(producer, subject, data, meta) as EventEnvelope;
  const headers: Record<string, string> = {};
  if (envelope.traceparent) headers.traceparent = envelope.traceparent;
  if (envelope.tracestate) headers.tracestate = envelope.tracestate;
  return { id: envelope.id, subject, envelope, headers };
}

/** The row as Prisma's Json columns take it: `tx.outboxMessage.createMany({ data: rows.map(outboxData) })`. */
export function outboxData(row: OutboxRow): { id: string; subject: string; envelope: object; headers: object } {
  return { id: row.id, subject: row.subject, envelope: row.envelope as unknown as object, headers: row.headers };
}

export interface OutboxRelayOptions {
  pool: Pool;
  /** The service's Postgres schema, which holds its `outbox` (or `outbox_batch`) table. */
  schema: string;
  bus: Pick<EventBus, 'publishSerialized'>;
  logger: Logger;
  /**
   * `event-rows` (default): the `outbox` table, a row per event. `batch-rows`: the `outbox_batch`
   * table, a row per committed batch of events as text (outbox-batch.ts).
   */
  layout?: 'event-rows' | 'batch-rows';
  /** Rows taken per relay transaction (default 500 event rows, or 2 batch rows of up to thousands of events each). */
  batchSize?: number;
  /** Poll interval when no notification arrives (a safety net: inserts also NOTIFY). */
  pollMs?: number;
}

/**
 * Moves committed outbox rows to JetStream. Rows are locked with SKIP LOCKED, so replicas share
 * the work; they are deleted only after JetStream acknowledged them, in the same transaction. A
 * crash after publishing but before commit republishes the rows with the same ids, which
 * JetStream's Nats-Msg-Id window and idempotent consumers absorb.
 */
export class OutboxRelay {
  private stopped = false;
  /** Set by a NOTIFY that arrives while a drain runs, so the loop drains again instead of sleeping. */
  private notified = false;
  private wake?: () => void;
  private listener?: PoolClient;
  private releaseListener?: (error?: Error) => void;
  private running?: Promise<void>;
  private readonly batchSize: number;
  private readonly table: string;
  private readonly channel: string;
  private readonly batchRows: boolean;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchRows = options.layout === 'batch-rows';
    this.batchSize = options.batchSize ?? (this.batchRows ? 2 : 500);
    const table = this.batchRows ? 'outbox_batch' : 'outbox';
    this.table = `"${options.schema}"."${table}"`;
    this.channel = `"${options.schema}_${table}"`;
  }

  async start(): Promise<void> {
    await this.listen();
    this.running = this.loop();
  }

  /**
   * Holds one connection with LISTEN. When Postgres restarts it drops that connection: the error is
   * handled here (an unhandled 'error' event would end the process), polling carries on, and the
   * loop listens again once the database answers.
   */
  private async listen(): Promise<void> {
    const listener = await this.options.pool.connect();
    let released = false;
    const drop = (error?: Error): void => {
      if (released) return;
      released = true;
      if (this.listener === listener) this.listener = undefined;
      listener.release(error);
    };
    this.releaseListener = drop;
    listener.on('error', (error) => {
      if (!released) this.options.logger.warn({ err: error }, 'outbox listener connection lost; polling until it is back');
      drop(error);
    });
    listener.on('notification', () => {
      this.notified = true;
      this.wake?.();
    });
    try {
      await listener.query(`LISTEN ${this.channel}`);
    } catch (error) {
      drop(error as Error);
      throw error;
    }
    this.listener = listener;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
    if (this.listener) {
      await this.listener.query(`UNLISTEN *`).catch(() => undefined);
      this.releaseListener?.();
    }
  }

  /** Publishes everything pending now; returns how many events were relayed. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const { rows, events } = await this.relayBatch();
      total += events;
      if (rows < this.batchSize) return total;
    }
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        if (!this.listener) await this.listen();
        this.notified = false;
        await this.drain();
        failures = 0;
      } catch (error) {
        failures++;
        this.options.logger.warn({ err: error, failures }, 'outbox relay failed; retrying');
      }
      if (this.notified && !failures) continue;
      // stop() during the drain found no sleep to cut short: do not start one.
      if (this.stopped) break;
      const delay = failures ? Math.min(200 * 2 ** failures, 10_000) : (this.options.pollMs ?? 1000);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** One transaction: lock up to batchSize rows, publish their events, delete them once acked. */
  private async relayBatch(): Promise<{ rows: number; events: number }> {
    const client = await this.options.pool.connect();
    try {
      await client.query('BEGIN');
      const taken = this.batchRows ? await this.takeBatchRows(client) : await this.takeEventRows(client);
      if (taken.keys.length) {
        await this.options.bus.publishSerialized(taken.events);
        await client.query(`DELETE FROM ${this.table} WHERE id = ANY($1::${this.batchRows ? 'bigint' : 'uuid'}[])`, [taken.keys]);
        const now = Date.now();
        for (const { createdAt, count } of taken.created) for (let n = count; n > 0; n--) outboxLag.observe((now - createdAt.getTime()) / 1000);
      }
      await client.query('COMMIT');
      return { rows: taken.keys.length, events: taken.events.length };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private async takeEventRows(client: PoolClient): Promise<TakenRows> {
    // The envelope as text: it is published byte for byte, never parsed into objects and back.
    const { rows } = await client.query<{ id: string; subject: string; workspace_id: string; body: string; headers: Record<string, string>; created_at: Date }>(
      `SELECT id, subject, envelope->>'workspaceId' AS workspace_id, envelope::text AS body, headers, created_at FROM ${this.table} ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [this.batchSize],
    );
    return {
      keys: rows.map((r) => r.id),
      events: rows.map((r) => ({ id: r.id, subject: r.subject, workspaceId: r.workspace_id, body: r.body, headers: r.headers })),
      created: rows.map((r) => ({ createdAt: r.created_at, count: 1 })),
    };
  }

  private async takeBatchRows(client: PoolClient): Promise<TakenRows> {
    const { rows } = await client.query<{ id: string; events: string; count: number; created_at: Date }>(
      `SELECT id, events, count, created_at FROM ${this.table} ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [this.batchSize],
    );
    return { keys: rows.map((r) => r.id), events: rows.flatMap((r) => parseOutboxBatch(r.events)), created: rows.map((r) => ({ createdAt: r.created_at, count: r.count })) };
  }
}

/** Rows locked by one relay transaction: their keys, their events in order, and when each was written. */
interface TakenRows {
  keys: string[];
  events: SerializedEvent[];
  created: { createdAt: Date; count: number }[];
}
