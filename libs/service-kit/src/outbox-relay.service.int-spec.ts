import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamBus, outboxBatchText, outboxRow } from '@tessera/bus';
import { CONTACT_CREATED_V1, DEFAULT_WORKSPACE_ID, type EventEnvelope } from '@tessera/contracts';
import { createLogger } from '@tessera/observability';
import { createTestDatabase, testBusNamespace, TEST_NATS_URL, type TestDatabase } from '@tessera/testing';
import { OutboxRelayService } from './outbox-relay.service';
import type { ServiceKitOptions } from './service-kit.module';

const logger = createLogger({ service: 'outbox-hand-off-test', level: 'silent' });

// The CRM's migrated `outbox_batch` (from the test template), written the way its hot path writes it.
describe('OutboxRelayService.handingOffAfter', () => {
  const ns = testBusNamespace('handoff');
  let db: TestDatabase;
  let pool: pg.Pool;
  let bus: JetStreamBus;
  let service: OutboxRelayService;
  const received: string[] = [];

  const events = (from: number, n: number): ReturnType<typeof outboxRow>[] =>
    Array.from({ length: n }, (_, i) =>
      outboxRow('crm', CONTACT_CREATED_V1.subject, { contactId: `00000000-0000-4000-8000-${String(from + i).padStart(12, '0')}`, attributes: {}, createdAt: new Date().toISOString() }, { workspaceId: DEFAULT_WORKSPACE_ID }),
    );
  /** What a hot path's writeBatch does: one batch row, `direct` when handed off, recorded after the insert. */
  const writeBatch = async (client: pg.PoolClient, rows: ReturnType<typeof outboxRow>[]): Promise<void> => {
    const text = outboxBatchText(rows);
    const direct = service.handsOff(client);
    const { rows: inserted } = await client.query('INSERT INTO crm.outbox_batch (events, count, direct) VALUES ($1, $2, $3) RETURNING id::text AS id', [text, rows.length, direct]);
    if (direct) service.writtenDirect(client, inserted[0].id, text);
  };
  /** A transaction with retries, as ContactStore.tx runs it: `failFirst` attempts roll back. */
  const transaction =
    (failFirst: number) =>
    async <T>(body: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const result = await body(client);
          if (attempt <= failFirst) throw new Error('deadlock detected');
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK');
          if (attempt > failFirst) throw error;
        } finally {
          client.release();
        }
      }
    };
  const batchRows = async (): Promise<number> => Number((await pool.query('SELECT count(*) FROM crm.outbox_batch')).rows[0].count);
  const until = async (check: () => boolean): Promise<void> => {
    for (const start = Date.now(); !check(); await new Promise((r) => setTimeout(r, 10))) if (Date.now() - start > 5_000) throw new Error('timed out');
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    bus = new JetStreamBus({ service: 'crm', servers: TEST_NATS_URL, namespace: ns.namespace, logger });
    await bus.connect();
    bus.connection().subscribe(`${ns.namespace}.crm.>`, { callback: (_e, m) => received.push((JSON.parse(new TextDecoder().decode(m.data)) as EventEnvelope).id) });
    // Not started: whatever reaches the bus here was handed off, not relayed.
    service = new OutboxRelayService(pool, bus, { service: 'crm', logger, outboxBatches: true } as unknown as ServiceKitOptions);
  });

  afterAll(async () => {
    await service.beforeApplicationShutdown();
    await bus.close();
    await pool.end();
    await db.drop();
    await ns.cleanup();
  });

  it('publishes the rows of each committed transaction right after it, in commit order, and only the last attempt of a retried one', async () => {
    const first = events(1, 30);
    const retried = events(100, 20);
    const rolledBack = events(200, 5);
    await service.handingOffAfter(transaction(0), async (c) => writeBatch(c, first));
    let attempts = 0;
    await service.handingOffAfter(transaction(1), async (c) => {
      // The failed attempt writes other events than the one that commits.
      await writeBatch(c, ++attempts === 1 ? rolledBack : retried);
    });
    await service.beforeApplicationShutdown(); // waits for the hand-offs in progress
    await until(() => received.length >= 50);
    expect(received).toEqual([...first, ...retried].map((e) => e.id));
    expect(await batchRows()).toBe(0);
  });

  it('leaves rows written outside a hand-off, or in a service without outbox_batch, to the relay', async () => {
    const withoutBatches = new OutboxRelayService(pool, bus, { service: 'crm', logger } as unknown as ServiceKitOptions);
    expect(await withoutBatches.handingOffAfter(transaction(0), async (c) => withoutBatches.handsOff(c))).toBe(false);
    const client = await pool.connect();
    try {
      expect(service.handsOff(client)).toBe(false);
      await writeBatch(client, events(300, 2));
    } finally {
      client.release();
    }
    const { rows } = await pool.query('SELECT direct FROM crm.outbox_batch');
    expect(rows).toEqual([{ direct: false }]);
    await pool.query('DELETE FROM crm.outbox_batch');
  });
});
