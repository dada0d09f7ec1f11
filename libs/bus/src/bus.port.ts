import type { EventEnvelope, EventMap, EventSubject, RequestMap, RequestSubject, ResponseMap } from '@tessera/contracts';

/** Injection token of the event bus port. */
export const EVENT_BUS = Symbol('EVENT_BUS');

export interface PublishMeta {
  workspaceId: string;
  /** Defaults to a new UUID v7. Pass a stable id to make a retried publish a duplicate. */
  id?: string;
  occurredAt?: Date | string;
}

/** An event as a handler receives it. */
export interface Delivered<S extends EventSubject> {
  data: EventMap[S];
  envelope: EventEnvelope<EventMap[S]>;
  /** 1 on first delivery, then 2, 3... on redeliveries. */
  attempt: number;
}

/** An envelope already serialised as JSON (an outbox row read back as text), with what its headers need. */
export interface SerializedEvent {
  id: string;
  subject: string;
  workspaceId: string;
  /** The envelope's JSON text, published byte for byte. */
  body: string;
  /** Trace context (traceparent, tracestate) to carry in NATS headers. */
  headers?: Record<string, string>;
}

export interface RequestOptions {
  timeoutMs?: number;
  workspaceId?: string;
}

/**
 * The bus as services see it. The JetStream driver implements it; anything honouring the same
 * subjects and envelope could replace it.
 */
export interface EventBus {
  /** Publishes directly, returning once JetStream stored the event. Prefer the outbox when state changes too. */
  publish<S extends EventSubject>(subject: S, data: EventMap[S], meta: PublishMeta): Promise<EventEnvelope<EventMap[S]>>;
  /** Publishes prepared envelopes with many acks in flight at once (windowed), for batches. */
  publishEnvelopes(envelopes: EventEnvelope[], headers?: Record<string, string>[]): Promise<void>;
  /** The same for envelopes that are already JSON text: nothing is parsed or serialised again. */
  publishSerialized(events: SerializedEvent[]): Promise<void>;
  request<S extends RequestSubject>(subject: S, data: RequestMap[S], options?: RequestOptions): Promise<ResponseMap[S]>;
}
