import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivered } from '@tessera/bus';
import { INSTANCE_ENTERED_V1, MESSAGE_STATUS_CHANGED_V1, type EventEnvelope, type EventSubject } from '@tessera/contracts';
import { FactsHandlers } from '../src/facts/facts.handlers';
import { startHarness, type Harness } from './harness';

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
});
