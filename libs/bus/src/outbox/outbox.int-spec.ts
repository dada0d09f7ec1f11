import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTACT_CREATED_V1, DEFAULT_WORKSPACE_ID, type EventEnvelope } from '@tessera/contracts';
import { createLogger } from '@tessera/observability';
import { createTestDatabase, testBusNamespace, TEST_NATS_URL, type TestDatabase } from '@tessera/testing';
import type { SerializedEvent } from '../bus.port';
import { JetStreamBus } from '../jetstream/jetstream-bus';
import { DIRECT_GRACE_MS, OutboxRelay, outboxRow } from './outbox';
import { outboxBatchText, parseOutboxBatch } from './outbox-batch';

const logger = createLogger({ service: 'outbox-test', level: 'silent' });
const SCHEMA = 'outbox_test';

// The outbox DDL every service's first migration carries, in a schema of this test's own.
const DDL = `
  CREATE SCHEMA ${SCHEMA};
  CREATE TABLE ${SCHEMA}.outbox (id uuid PRIMARY KEY, subject text NOT NULL, envelope jsonb NOT NULL, headers jsonb NOT NULL DEFAULT '{}', created_at timestamptz NOT NULL DEFAULT now());
  CREATE FUNCTION ${SCHEMA}.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('${SCHEMA}_outbox', ''); RETURN NULL; END; $$;
  CREATE TRIGGER outbox_notify AFTER INSERT ON ${SCHEMA}.outbox FOR EACH STATEMENT EXECUTE FUNCTION ${SCHEMA}.outbox_notify();
  CREATE TABLE ${SCHEMA}.outbox_batch (id bigserial PRIMARY KEY, events text NOT NULL, count int NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), direct boolean NOT NULL DEFAULT false);
  CREATE FUNCTION ${SCHEMA}.outbox_batch_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('${SCHEMA}_outbox_batch', ''); RETURN NULL; END; $$;
  CREATE TRIGGER outbox_batch_notify AFTER INSERT ON ${SCHEMA}.outbox_batch FOR EACH ROW WHEN (NOT NEW.direct) EXECUTE FUNCTION ${SCHEMA}.outbox_batch_notify();`;

const contact = (n: number): { contactId: string; attributes: Record<string, unknown>; createdAt: string } => ({
  contactId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  attributes: { n },
  createdAt: new Date().toISOString(),
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('OutboxRelay', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let bus: JetStreamBus;
  const received: EventEnvelope[] = [];
  const ns = testBusNamespace('outbox');

  /** Writes rows the way a service does: inside its transaction, committed or rolled back. */
  const write = async (rows: ReturnType<typeof outboxRow>[], commit = true): Promise<void> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      for (const r of rows) await client.query(`INSERT INTO ${SCHEMA}.outbox (id, subject, envelope, headers) VALUES ($1, $2, $3, $4)`, [r.id, r.subject, r.envelope, r.headers]);
      await client.query(commit ? 'COMMIT' : 'ROLLBACK');
    } finally {
      client.release();
    }
  };
  const pending = async (): Promise<number> => Number((await pool.query(`SELECT count(*) FROM ${SCHEMA}.outbox`)).rows[0].count);
  const newRelay = (publish = bus.publishSerialized.bind(bus)): OutboxRelay => new OutboxRelay({ pool, schema: SCHEMA, bus: { publishSerialized: publish }, logger, pollMs: 100 });

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 6 });
    await pool.query(DDL);
    bus = new JetStreamBus({ service: 'crm', servers: TEST_NATS_URL, namespace: ns.namespace, logger });
    await bus.connect();
    bus.connection().subscribe(`${ns.namespace}.crm.>`, { callback: (_e, m) => received.push(JSON.parse(new TextDecoder().decode(m.data))) });
  });

  afterAll(async () => {
    await bus.close();
    await pool.end();
    await db.drop();
    await ns.cleanup();
  });

  it('publishes rows committed while no relay ran (a crash between commit and publish loses nothing)', async () => {
    const rows = [1, 2, 3].map((n) => outboxRow('crm', CONTACT_CREATED_V1.subject, contact(n), { workspaceId: DEFAULT_WORKSPACE_ID }));
    await write(rows);
    await write([outboxRow('crm', CONTACT_CREATED_V1.subject, contact(99), { workspaceId: DEFAULT_WORKSPACE_ID })], false);
    const relay = newRelay();
    await relay.start();
    await until(async () => (await pending()) === 0 && received.length >= 3);
    await relay.stop();
    expect(received.map((e) => e.id).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(received.some((e) => (e.data as { attributes: { n: number } }).attributes.n === 99)).toBe(false);
  });

  it('keeps rows when JetStream refuses them, and publishes them once it accepts again', async () => {
    received.length = 0;
    let failures = 2;
    const relay = newRelay(async (events) => {
      if (failures-- > 0) throw new Error('nats: timeout');
      await bus.publishSerialized(events);
    });
    await relay.start();
    try {
      const row = outboxRow('crm', CONTACT_CREATED_V1.subject, contact(4), { workspaceId: DEFAULT_WORKSPACE_ID });
      await write([row]);
      // The row goes only after a publish that JetStream acknowledged, in the same transaction.
      await until(async () => received.some((e) => e.id === row.id) && (await pending()) === 0);
      expect(failures).toBeLessThan(0);
      expect(received.filter((e) => e.id === row.id)).toHaveLength(1);
    } finally {
      await relay.stop();
    }
  });

  it('lets two replicas share the table without publishing a row twice', async () => {
    received.length = 0;
    const published: string[] = [];
    const counting = async (events: SerializedEvent[]): Promise<void> => {
      published.push(...events.map((e) => e.id));
      await bus.publishSerialized(events);
    };
    const relays = [newRelay(counting), newRelay(counting)];
    await Promise.all(relays.map((r) => r.start()));
    try {
      const rows = Array.from({ length: 300 }, (_, n) => outboxRow('crm', CONTACT_CREATED_V1.subject, contact(1000 + n), { workspaceId: DEFAULT_WORKSPACE_ID }));
      for (let i = 0; i < rows.length; i += 30) await write(rows.slice(i, i + 30));
      await until(async () => (await pending()) === 0 && received.length >= 300);
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
    }
    expect(published).toHaveLength(300);
    expect(new Set(published).size).toBe(300);
  });

  it('stops promptly when asked while it drains, instead of sleeping for a poll interval first', async () => {
    let drained!: () => void;
    const draining = new Promise<void>((r) => (drained = r));
    let stopAsked!: () => void;
    const stopping = new Promise<void>((r) => (stopAsked = r));
    const relay = new OutboxRelay({
      pool,
      schema: SCHEMA,
      logger,
      pollMs: 60_000,
      bus: {
        publishSerialized: async (events) => {
          drained();
          await stopping;
          await bus.publishSerialized(events);
        },
      },
    });
    await relay.start();
    await write([outboxRow('crm', CONTACT_CREATED_V1.subject, contact(7), { workspaceId: DEFAULT_WORKSPACE_ID })]);
    await draining;
    const started = Date.now();
    const stopped = relay.stop();
    stopAsked();
    await stopped;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await pending()).toBe(0);
  });

  it('relays the batch layout: a row per committed batch, its events in order, each once, after a NOTIFY', async () => {
    received.length = 0;
    const relay = new OutboxRelay({ pool, schema: SCHEMA, bus, logger, layouts: ['batch-rows'], pollMs: 60_000 });
    await relay.start();
    try {
      const batches = [0, 1, 2].map((b) => Array.from({ length: 40 }, (_, n) => outboxRow('crm', CONTACT_CREATED_V1.subject, contact(5000 + b * 100 + n), { workspaceId: DEFAULT_WORKSPACE_ID })));
      for (const rows of batches) await pool.query(`INSERT INTO ${SCHEMA}.outbox_batch (events, count) VALUES ($1, $2)`, [outboxBatchText(rows), rows.length]);
      // The poll is a minute away: only the notification can have woken the relay.
      await until(async () => received.length >= 120 && Number((await pool.query(`SELECT count(*) FROM ${SCHEMA}.outbox_batch`)).rows[0].count) === 0);
      expect(received.map((e) => e.id)).toEqual(batches.flat().map((r) => r.id));
      expect(received[0]).toEqual(JSON.parse(JSON.stringify(batches[0]![0]!.envelope)));
    } finally {
      await relay.stop();
    }
  });

  it('relays both tables from one loop and one listening connection, woken by their notifications', async () => {
    received.length = 0;
    const relay = new OutboxRelay({ pool, schema: SCHEMA, bus, logger, layouts: ['event-rows', 'batch-rows'], pollMs: 60_000 });
    await relay.start();
    try {
      const { rows: listening } = await pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`);
      expect(listening[0].n).toBe(1);
      const batch = Array.from({ length: 5 }, (_, n) => outboxRow('crm', CONTACT_CREATED_V1.subject, contact(7000 + n), { workspaceId: DEFAULT_WORKSPACE_ID }));
      await pool.query(`INSERT INTO ${SCHEMA}.outbox_batch (events, count) VALUES ($1, $2)`, [outboxBatchText(batch), batch.length]);
      await until(() => received.length >= 5);
      const single = outboxRow('crm', CONTACT_CREATED_V1.subject, contact(7100), { workspaceId: DEFAULT_WORKSPACE_ID });
      await write([single]);
      // The poll is a minute away: only the notifications can have woken the relay.
      await until(async () => received.some((e) => e.id === single.id) && (await pending()) === 0);
      expect(received.map((e) => e.id)).toEqual([...batch.map((r) => r.id), single.id]);
      expect(Number((await pool.query(`SELECT count(*) FROM ${SCHEMA}.outbox_batch`)).rows[0].count)).toBe(0);
    } finally {
      await relay.stop();
    }
  });

  describe('hand-off of direct batch rows by their writer', () => {
    const newRelay = (publish = bus.publishSerialized.bind(bus)): OutboxRelay =>
      new OutboxRelay({ pool, schema: SCHEMA, bus: { publishSerialized: publish }, logger, layouts: ['batch-rows'], pollMs: 100 });
    const batchRows = async (): Promise<number> => Number((await pool.query(`SELECT count(*) FROM ${SCHEMA}.outbox_batch`)).rows[0].count);
    /** A committed `direct` row of `n` events, as a writer leaves it for handOff; `ageSeconds` back-dates it. */
    const writeDirect = async (first: number, n: number, ageSeconds = 0): Promise<{ key: string; events: SerializedEvent[]; ids: string[] }> => {
      const rows = Array.from({ length: n }, (_, i) => outboxRow('crm', CONTACT_CREATED_V1.subject, contact(first + i), { workspaceId: DEFAULT_WORKSPACE_ID }));
      const text = outboxBatchText(rows);
      const { rows: inserted } = await pool.query(`INSERT INTO ${SCHEMA}.outbox_batch (events, count, direct, created_at) VALUES ($1, $2, true, now() - make_interval(secs => $3)) RETURNING id`, [text, n, ageSeconds]);
      return { key: String(inserted[0].id), events: parseOutboxBatch(text), ids: rows.map((r) => r.id) };
    };

    it('publishes a committed row once, from the writer, while the relay leaves it alone', async () => {
      received.length = 0;
      const published: string[] = [];
      const relay = newRelay(async (events) => {
        published.push(...events.map((e) => e.id));
        await bus.publishSerialized(events);
      });
      await relay.start();
      try {
        const batch = await writeDirect(8000, 20);
        // Several polls pass: a row inside its grace is its writer's.
        await new Promise((r) => setTimeout(r, 400));
        expect(published).toEqual([]);
        expect(await batchRows()).toBe(1);
        await relay.handOff([batch]);
        await until(() => received.length >= 20);
        expect(received.map((e) => e.id)).toEqual(batch.ids);
        expect(await batchRows()).toBe(0);
        // Handing the same row off again (a retried writer) publishes nothing more.
        await relay.handOff([batch]);
        await new Promise((r) => setTimeout(r, 200));
        expect(received).toHaveLength(20);
        expect(published).toEqual(batch.ids);
      } finally {
        await relay.stop();
      }
    });

    it('leaves a row the relay holds to the relay, and never throws when the bus refuses', async () => {
      received.length = 0;
      const relay = newRelay(async () => {
        throw new Error('nats: timeout');
      });
      const batch = await writeDirect(8100, 5);
      await relay.handOff([batch]); // the bus refuses: logged, the row stays
      expect(await batchRows()).toBe(1);
      const holder = await pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(`SELECT id FROM ${SCHEMA}.outbox_batch WHERE id = $1 FOR UPDATE`, [batch.key]);
        const working = newRelay();
        await working.handOff([batch]); // locked by "the relay": skipped, not waited for
        expect(await batchRows()).toBe(1);
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
      }
      expect(received).toEqual([]);
      await pool.query(`DELETE FROM ${SCHEMA}.outbox_batch`);
    });

    it('publishes a direct row its writer never handed off (a crash) once the grace has passed', async () => {
      received.length = 0;
      const relay = newRelay();
      await relay.start();
      try {
        const batch = await writeDirect(8200, 3, DIRECT_GRACE_MS / 1000 + 1);
        await until(async () => received.length >= 3 && (await batchRows()) === 0);
        expect(received.map((e) => e.id)).toEqual(batch.ids);
      } finally {
        await relay.stop();
      }
    });
  });
});
