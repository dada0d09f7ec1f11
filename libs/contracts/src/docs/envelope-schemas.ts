import { SERVICES, type EventDefinition } from '../define';
import type { EventEnvelope } from '../envelope';
import type { Schema } from './class-schemas';

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];

/**
 * `EventEnvelope` as JSON Schema, written once by hand. Typed against the interface so that a new
 * envelope field fails to compile until it is described here. Given an event definition, the
 * subject, version and producer are pinned to that event's values.
 */
export function eventEnvelopeSchema(data: Schema, def?: EventDefinition): Schema {
  const properties: { [K in keyof EventEnvelope]-?: Schema } = {
    id: { type: 'string', format: 'uuid', description: 'UUID v7; also the Nats-Msg-Id (publish de-duplication) and the consumer idempotency key.' },
    subject: def ? { type: 'string', const: def.subject } : { type: 'string' },
    schemaVersion: def ? { type: 'integer', const: def.version } : { type: 'integer', minimum: 1 },
    workspaceId: { type: 'string', format: 'uuid' },
    occurredAt: { type: 'string', format: 'date-time', description: 'When the fact happened (not when it was published).' },
    producer: def ? { type: 'string', const: def.producer } : { type: 'string', enum: [...SERVICES] },
    traceparent: { type: 'string', description: 'W3C trace context of the producing operation, also carried in NATS headers.' },
    tracestate: { type: 'string' },
    partitionKey: { type: 'string', description: "Value of the event's partition key field, for consumers that need per-entity ordering." },
    data,
  };
  const required: RequiredKeys<EventEnvelope>[] = ['id', 'subject', 'schemaVersion', 'workspaceId', 'occurredAt', 'producer', 'data'];
  return { type: 'object', description: 'Envelope of every event on the bus.', properties, required };
}

/** `ReplyEnvelope`: the answer to every request, a result or an error with a stable code. */
export function replyEnvelopeSchema(result: Schema): Schema {
  return {
    description: 'Answer to a request: either a result or an error with a stable code.',
    oneOf: [
      { type: 'object', properties: { ok: { const: true }, result }, required: ['ok', 'result'] },
      {
        type: 'object',
        properties: {
          ok: { const: false },
          error: {
            type: 'object',
            properties: { code: { type: 'string' }, message: { type: 'string' } },
            required: ['code', 'message'],
          },
        },
        required: ['ok', 'error'],
      },
    ],
  };
}
