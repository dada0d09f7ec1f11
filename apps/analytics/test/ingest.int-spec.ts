import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivered } from '@tessera/bus';
import { INSTANCE_ENTERED_V1, MESSAGE_STATUS_CHANGED_V1, type EventEnvelope, type EventSubject } from '@tessera/contracts';
import { FactsHandlers } from '../src/facts/facts.handlers';
import { startHarness, waitFor, type Harness } from './harness';

const D1 = '2026-11-10T10:00:00.000Z';

// One batch straight into the handler, so that a batch mixing new events, events already recorded
// and an event twice in itself is certain (through the bus, batching is up to timing).
describe('a batch holding redeliveries', () => {
  let h: Harness;
  let handlers: FactsHandlers;
  const workspaceId = randomUUID();
  const delivered = (envelope: EventEnvelope): Delivered<EventSubject> => ({ envelope, data: envelope.data, attempt: 1 }) as Delivered<EventSubject>;
  const sent = (): EventEnvelope =>
    h.envelope(MESSAGE_STATUS_CHANGED_V1.subject, { messageId: randomUUID(), contactId: randomUUID(), channel: 'email', templateId: 't', status: 'sent', occurredAt: D1 }, { workspaceId, occurredAt: D1 });
  const rollup = async (metric: string, dim = ''): Promise<number> =>
    Number((await h.pool.query<{ n: string }>(`SELECT coalesce(sum(count), 0) AS n FROM rollup WHERE workspace_id = $1 AND grain = 'd' AND metric = $2 AND dim = $3`, [workspaceId, metric, dim])).rows[0]!.n);

  beforeAll(async () => {
    h = await startHarness('aningest');
    handlers = h.analytics.app.get(FactsHandlers);
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('records and counts only the events not seen before, each once', async () => {
    const [a, b, c] = [sent(), sent(), sent()];
    const instanceId = randomUUID();
    const entered = h.envelope(INSTANCE_ENTERED_V1.subject, { instanceId, journeyId: randomUUID(), journeyVersion: 1, contactId: randomUUID(), at: D1, trigger: 'api' }, { workspaceId, occurredAt: D1 });
    expect(await handlers.record([a, b].map(delivered))).toBe(2);
    // An upper-case id is the same event (Postgres compares uuids, not text).
    const bAgain = { ...b, id: b.id.toUpperCase() };
    expect(await handlers.record([bAgain, c, a, c, entered].map(delivered))).toBe(2);
    expect(await handlers.record([entered].map(delivered))).toBe(0);

    expect((await h.pool.query('SELECT 1 FROM fact WHERE workspace_id = $1', [workspaceId])).rowCount).toBe(4);
    expect(await rollup('msg.sent')).toBe(3);
    expect(await rollup('msg.sent', 'channel')).toBe(3);
    expect(await rollup('journey.entered')).toBe(1);
    expect(await rollup('uniq:journey.entered', 'journey')).toBe(1);
    expect((await h.pool.query('SELECT entered_at FROM journey_instance WHERE workspace_id = $1 AND instance_id = $2', [workspaceId, instanceId])).rows).toEqual([{ entered_at: new Date(D1) }]);
  });

  // The bus runs two batches at once (INGEST_IN_FLIGHT): a redelivery may sit in the other batch
  // while the first is still uncommitted, in any order. An open transaction holding one shared
  // event makes both batches wait inside their fact inserts, so they certainly overlap.
  it('counts each event once across batches written at the same time, without deadlock', async () => {
    const before = await rollup('msg.sent');
    const events = Array.from({ length: 200 }, sent);
    const [first, second] = [events.slice(0, 150), events.slice(50).reverse()];
    const blocker = await h.pool.connect();
    try {
      const held = events[100]!;
      await blocker.query('BEGIN');
      await blocker.query(`INSERT INTO fact (id, workspace_id, subject, occurred_at, data) VALUES ($1, $2, $3, $4, '{}')`, [held.id, workspaceId, held.subject, held.occurredAt]);
      const recording = Promise.all([handlers.record(first.map(delivered)), handlers.record(second.map(delivered))]);
      const waiting = async (): Promise<number> => Number((await h.pool.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0]!.n);
      await waitFor(async () => (await waiting()) >= 2, 'both batches waiting on the open transaction');
      await blocker.query('ROLLBACK');
      const recorded = await recording;
      expect(recorded[0] + recorded[1]).toBe(200);
    } finally {
      blocker.release();
    }
    expect(await rollup('msg.sent')).toBe(before + 200);
    expect(await rollup('msg.sent', 'channel')).toBe(before + 200);
  });
});
