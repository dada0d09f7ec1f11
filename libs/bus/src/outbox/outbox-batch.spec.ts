import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@tessera/contracts';
import { outboxBatchText, parseOutboxBatch } from './outbox-batch';
import type { OutboxRow } from './outbox';

const WS = '00000000-0000-4000-8000-000000000001';

function row(id: string, subject: string, data: object, headers: Record<string, string>): OutboxRow {
  const envelope = { id, subject, schemaVersion: 1, workspaceId: WS, occurredAt: '2026-01-01T00:00:00.000Z', producer: 'journeys', ...headers, data } as unknown as EventEnvelope;
  return { id, subject, envelope, headers };
}

describe('outboxBatchText / parseOutboxBatch', () => {
  it('carries every event of a batch, in order, with its headers and the envelope JSON byte for byte', () => {
    const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'a=b' };
    const step = row('00000000-0000-4000-8000-00000000000a', 'journeys.step.completed.v1', { reason: 'tab\there, line\nbreak' }, trace);
    const send = row('00000000-0000-4000-8000-00000000000b', 'journeys.message.requested.v1', { data: { note: 'ünï\r\n"q"' } }, {});
    const events = parseOutboxBatch(outboxBatchText([step, send]));
    expect(events).toEqual([
      { id: step.id, subject: step.subject, workspaceId: WS, headers: trace, body: JSON.stringify(step.envelope) },
      { id: send.id, subject: send.subject, workspaceId: WS, headers: {}, body: JSON.stringify(send.envelope) },
    ]);
    expect(JSON.parse(events[0]!.body).data.reason).toBe('tab\there, line\nbreak');
  });

  it('refuses a field that would break the line format', () => {
    expect(() => outboxBatchText([row('id', 'journeys.step.completed.v1', {}, { traceparent: 'bad\tvalue' })])).toThrow(/tab or line break/);
  });
});
