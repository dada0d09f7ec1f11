import type { SerializedEvent } from '../bus.port';
import type { OutboxRow } from './outbox';

/*
 * The batch layout of the outbox: one `outbox_batch` row per committed transaction holding all of
 * its events as text, instead of one `outbox` row per event. For a service that commits thousands
 * of events a second in batches (journeys' timer wake-ups), a row per event (jsonb parsed on insert,
 * printed again by the relay, two index entries, its own delete) was the largest share of
 * Postgres's work; one text row per batch costs a fraction of it. OutboxRelay relays either layout, or both.
 */

/** Fields of an outbox line other than the envelope: ids, subjects and trace context never hold these. */
const SEPARATORS = /[\t\r\n]/;

/**
 * A batch's events as the text of one `outbox_batch` row: a line per event, in order, of id,
 * subject, workspace id, traceparent, tracestate and the envelope's JSON, tab-separated
 * (JSON.stringify escapes every tab and newline inside strings, so neither occurs in the JSON).
 */
export function outboxBatchText(rows: OutboxRow[]): string {
  let text = '';
  for (const r of rows) {
    const fields = [r.id, r.subject, r.envelope.workspaceId, r.headers.traceparent ?? '', r.headers.tracestate ?? ''];
    if (fields.some((f) => SEPARATORS.test(f))) throw new Error(`outbox event ${r.id}: a tab or line break in its id, subject, workspace or trace context`);
    text += `${text ? '\n' : ''}${fields.join('\t')}\t${JSON.stringify(r.envelope)}`;
  }
  return text;
}

/** The events of an `outbox_batch` row, ready for publishSerialized. */
export function parseOutboxBatch(text: string): SerializedEvent[] {
  const events: SerializedEvent[] = [];
  for (const line of text.split('\n')) {
    let at = 0;
    const field = (): string => {
      const end = line.indexOf('\t', at);
      const value = line.slice(at, end);
      at = end + 1;
      return value;
    };
    const id = field();
    const subject = field();
    const workspaceId = field();
    const traceparent = field();
    const tracestate = field();
    const headers: Record<string, string> = {};
    if (traceparent) headers.traceparent = traceparent;
    if (tracestate) headers.tracestate = tracestate;
    events.push({ id, subject, workspaceId, headers, body: line.slice(at) });
  }
  return events;
}
