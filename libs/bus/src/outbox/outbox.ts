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

export type OutboxLayout = 'event-rows' | 'batch-rows';

/** An `outbox_batch` row its writer inserted with `direct` set and hands to OutboxRelay.handOff once committed. */
export interface CommittedBatch {
  /** The row's id. */
  key: string;
  /** Its events, in order: what the relay would publish for it. */
  events: SerializedEvent[];
}

/**
 * How long the relay leaves a `direct` batch row to the writer that hands it off. A row still
 * there after that belongs to a writer that crashed or could not reach the bus, and the relay
 * publishes it like any other.
 */
export const DIRECT_GRACE_MS = 5000;

/** One table the relay drains, and the channel its inserts NOTIFY on. */
interface OutboxTable {
  layout: OutboxLayout;
  name: string;
  channel: string;
  batchSize: number;
}

export interface OutboxRelayOptions {
  pool: Pool;
  /** The service's Postgres schema, which holds its `outbox` (or `outbox_batch`) table. */
  schema: string;
  bus: Pick<EventBus, 'publishSerialized'>;
  logger: Logger;
  /**
   * The tables relayed, each drained in its own transactions: `event-rows`, the `outbox` table (a
   * row per event); `batch-rows`, the `outbox_batch` table (a row per committed batch of events as
   * text, outbox-batch.ts). Default: `event-rows` only.
   */
  layouts?: OutboxLayout[];
  /** Rows taken per relay transaction (default 500 event rows, or 2 batch rows of up to thousands of events each). */
  batchSize?: number;
  /** Poll interval when no notification arrives (a safety net: inserts also NOTIFY). */
  pollMs?: number;
}

/**
 * Moves committed outbox rows to JetStream. Rows are locked with SKIP LOCKED, so replicas share
 * the work; they are deleted only after JetStream acknowledged them, in the same transaction. A
 * crash after publishing but before commit republishes the rows with the same ids, which
 * JetStream's Nats-Msg-Id window and idempotent consumers absorb. One relay serves all of a
 * service's outbox tables: one loop, and one connection listening on each table's channel.
 */
export class OutboxRelay {
  private stopped = false;
  /** Tables whose NOTIFY arrived since their last drain began: drained again instead of sleeping. */
  private readonly notified = new Set<OutboxTable>();
  private wake?: () => void;
  private listener?: PoolClient;
  private releaseListener?: (error?: Error) => void;
  private running?: Promise<void>;
  private readonly tables: OutboxTable[];

  constructor(private readonly options: OutboxRelayOptions) {
    this.tables = (options.layouts ?? ['event-rows']).map((layout) => {
      const table = layout === 'batch-rows' ? 'outbox_batch' : 'outbox';
      return { layout, name: `"${options.schema}"."${table}"`, channel: `"${options.schema}_${table}"`, batchSize: options.batchSize ?? (layout === 'batch-rows' ? 2 : 500) };
    });
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
    listener.on('notification', ({ channel }) => {
      const table = this.tables.find((t) => t.channel === `"${channel}"`);
      if (table) this.notified.add(table);
      this.wake?.();
    });
    try {
      for (const table of this.tables) await listener.query(`LISTEN ${table.channel}`);
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

  /**
   * Publishes batch rows their writer has just committed (with `direct` set, so no NOTIFY woke the
   * relay for them). The writer holds the events already: nothing is read back, and no wake-up or
   * queue behind other writers' batches stands between its commit and the bus. Each row is locked
   * (SKIP LOCKED) and deleted in one transaction with the acknowledgement of its events, so a row
   * the relay took after its grace is skipped here, never published by both. A failure of
   * Postgres or the bus is logged, not thrown: the rows stay, and the relay publishes them once
   * DIRECT_GRACE_MS has passed.
   */
  async handOff(batches: CommittedBatch[]): Promise<void> {
    if (!batches.length) return;
    const table = this.tables.find((t) => t.layout === 'batch-rows');
    if (!table) throw new Error('OutboxRelay.handOff needs the batch-rows layout');
    let client: PoolClient | undefined;
    try {
      client = await this.options.pool.connect();
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string; createdAt: Date; count: number }>(
        `DELETE FROM ${table.name} WHERE id IN (SELECT id FROM ${table.name} WHERE id = ANY($1::bigint[]) FOR UPDATE SKIP LOCKED) RETURNING id, created_at AS "createdAt", count`,
        [batches.map((b) => b.key)],
      );
      const mine = new Set(rows.map((r) => String(r.id)));
      const events = batches.filter((b) => mine.has(b.key)).flatMap((b) => b.events);
      if (events.length) await this.options.bus.publishSerialized(events);
      await client.query('COMMIT');
      observeLag(rows);
    } catch (error) {
      await client?.query('ROLLBACK').catch(() => undefined);
      this.options.logger.warn({ err: error, rows: batches.length }, 'outbox hand-off failed; the relay publishes these rows after their grace');
    } finally {
      client?.release();
    }
  }

  /** Publishes everything pending now; returns how many events were relayed. */
  drain(): Promise<number> {
    return this.drainTables(this.tables);
  }

  private async drainTables(tables: OutboxTable[]): Promise<number> {
    let total = 0;
    for (const table of tables) {
      for (;;) {
        const { rows, events } = await this.relayBatch(table);
        total += events;
        if (rows < table.batchSize) break;
      }
    }
    return total;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    // Every table at start, after a failure and after a quiet poll interval; after a NOTIFY, only the tables it named.
    let due: OutboxTable[] = this.tables;
    while (!this.stopped) {
      try {
        if (!this.listener) await this.listen();
        for (const table of due) this.notified.delete(table);
        await this.drainTables(due);
        failures = 0;
      } catch (error) {
        failures++;
        this.options.logger.warn({ err: error, failures }, 'outbox relay failed; retrying');
      }
      due = this.tables;
      if (this.notified.size && !failures) {
        due = [...this.notified];
        continue;
      }
      // stop() during the drain found no sleep to cut short: do not start one.
      if (this.stopped) break;
      const delay = failures ? Math.min(200 * 2 ** failures, 10_000) : (this.options.pollMs ?? 1000);
      const woken = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      if (woken && !failures && this.notified.size) due = [...this.notified];
    }
  }

  /** One transaction: lock up to batchSize rows, publish their events, delete them once acked. */
  private async relayBatch(table: OutboxTable): Promise<{ rows: number; events: number }> {
    const client = await this.options.pool.connect();
    try {
      await client.query('BEGIN');
      const batchRows = table.layout === 'batch-rows';
      const taken = batchRows ? await this.takeBatchRows(client, table) : await this.takeEventRows(client, table);
      if (taken.keys.length) {
        await this.options.bus.publishSerialized(taken.events);
        await client.query(`DELETE FROM ${table.name} WHERE id = ANY($1::${batchRows ? 'bigint' : 'uuid'}[])`, [taken.keys]);
        observeLag(taken.created);
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

  private async takeEventRows(client: PoolClient, table: OutboxTable): Promise<TakenRows> {
    // The envelope as text: it is published byte for byte, never parsed into objects and back.
    const { rows } = await client.query<{ id: string; subject: string; workspace_id: string; body: string; headers: Record<string, string>; created_at: Date }>(
      `SELECT id, subject, envelope->>'workspaceId' AS workspace_id, envelope::text AS body, headers, created_at FROM ${table.name} ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [table.batchSize],
    );
    return {
      keys: rows.map((r) => r.id),
      events: rows.map((r) => ({ id: r.id, subject: r.subject, workspaceId: r.workspace_id, body: r.body, headers: r.headers })),
      created: rows.map((r) => ({ createdAt: r.created_at, count: 1 })),
    };
  }

  private async takeBatchRows(client: PoolClient, table: OutboxTable): Promise<TakenRows> {
    const { rows } = await client.query<{ id: string; events: string; count: number; created_at: Date }>(
      `SELECT id, events, count, created_at FROM ${table.name} WHERE NOT direct OR created_at < now() - make_interval(secs => $2) ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [table.batchSize, DIRECT_GRACE_MS / 1000],
    );
    return { keys: rows.map((r) => r.id), events: rows.flatMap((r) => parseOutboxBatch(r.events)), created: rows.map((r) => ({ createdAt: r.created_at, count: r.count })) };
  }
}

/** The outbox lag of events just published: from each row's write to now, once per event it held. */
function observeLag(rows: { createdAt: Date; count: number }[]): void {
  const now = Date.now();
  for (const { createdAt, count } of rows) for (let n = count; n > 0; n--) outboxLag.observe((now - createdAt.getTime()) / 1000);
}

/** Rows locked by one relay transaction: their keys, their events in order, and when each was written. */
interface TakenRows {
  keys: string[];
  events: SerializedEvent[];
  created: { createdAt: Date; count: number }[];
}
