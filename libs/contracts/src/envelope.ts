/**
 * Every event on the bus travels in this envelope. `id` doubles as the JetStream `Nats-Msg-Id`
 * (publish de-duplication) and as the consumer's idempotency key.
 */
export interface EventEnvelope<T = unknown> {
  /** UUID v7: unique and time-ordered. */
  id: string;
  subject: string;
  schemaVersion: number;
  workspaceId: string;
  /** ISO 8601 instant at which the fact happened (not when it was published). */
  occurredAt: string;
  /** The service that produced the event. */
  producer: string;
  /** W3C trace context of the producing operation, also carried in NATS headers. */
  traceparent?: string;
  tracestate?: string;
  /** Value of the definition's partition key, for consumers that need per-entity ordering. */
  partitionKey?: string;
  data: T;
}

/** Answer of every request/reply call: either a result or an error with a stable code. */
export type ReplyEnvelope<R> = { ok: true; result: R } | { ok: false; error: { code: string; message: string } };

/** Headers the bus sets on every message. */
export const HEADERS = {
  msgId: 'Nats-Msg-Id',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  workspace: 'Tessera-Workspace',
  dlqReason: 'Tessera-Dlq-Reason',
  dlqConsumer: 'Tessera-Dlq-Consumer',
  dlqDeliveries: 'Tessera-Dlq-Deliveries',
} as const;
