import type { OutboxRow } from '@tessera/bus';
import { eventDefinition, type EventEnvelope, type EventMap, type EventSubject } from '@tessera/contracts';
import { injectTraceContext, type TraceCarrier } from '@tessera/observability';
import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

export interface OutboxMeta {
  workspaceId: string;
  id?: string;
  /** A batch's events share one instant and one trace context: computed once, not per event. */
  occurredAt?: string;
  trace?: TraceCarrier;
}

/**
 * The same envelope as @tessera/bus's outboxRow, without re-validating the payload with
 * class-validator: on the hot path that validation cost ~1 ms of CPU per event (four events per
 * step). The payloads are built by typed code from the contracts' types, and the integration tests
 * validate every envelope journeys publishes against its contract.
 */
export function fastOutboxRow<S extends EventSubject>(producer: string, subject: S, data: EventMap[S], meta: OutboxMeta): OutboxRow {
  const definition = eventDefinition(subject);
  if (!definition) throw new Error(`Unknown event subject ${subject}`);
  const trace = meta.trace ?? injectTraceContext();
  const key = definition.partitionKey ? (data as unknown as Record<string, unknown>)[definition.partitionKey] : undefined;
  const envelope = {
    id: meta.id ?? uuidv7(),
    subject,
    schemaVersion: definition.version,
    workspaceId: meta.workspaceId,
    occurredAt: meta.occurredAt ?? new Date().toISOString(),
    producer,
    ...(trace.traceparent ? { traceparent: trace.traceparent } : {}),
    ...(trace.tracestate ? { tracestate: trace.tracestate } : {}),
    ...(key !== undefined ? { partitionKey: String(key) } : {}),
    data,
  } as EventEnvelope;
  const headers: Record<string, string> = {};
  if (trace.traceparent) headers.traceparent = trace.traceparent;
  if (trace.tracestate) headers.tracestate = trace.tracestate;
  return { id: envelope.id, subject, envelope, headers };
}

/**
 * Name-based (v5, SHA-1) UUIDs in one namespace, the same as the uuid package's v5 but without
 * re-parsing the namespace and re-encoding the name char by char on every call (measured ~35 µs
 * a call under load; one per message requested).
 */
export function uuidV5In(namespace: string): (name: string) => string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  return (name) => {
    const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
    h[6] = (h[6]! & 0x0f) | 0x50;
    h[8] = (h[8]! & 0x3f) | 0x80;
    const x = h.toString('hex', 0, 16);
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
  };
}
