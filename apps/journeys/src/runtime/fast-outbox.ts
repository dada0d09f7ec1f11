import type { OutboxRow } from '@tessera/bus';
import { eventDefinition, type EventEnvelope, type EventMap, type EventSubject } from '@tessera/contracts';
import { injectTraceContext } from '@tessera/observability';
import { v7 as uuidv7 } from 'uuid';

/**
 * The same envelope as @tessera/bus's outboxRow, without re-validating the payload with
 * class-validator: on the hot path that validation cost ~1 ms of CPU per event (four events per
 * step). The payloads are built by typed code from the contracts' types, and the integration tests
 * validate every envelope journeys publishes against its contract.
 */
export function fastOutboxRow<S extends EventSubject>(producer: string, subject: S, data: EventMap[S], meta: { workspaceId: string; id?: string }): OutboxRow {
  const definition = eventDefinition(subject);
  if (!definition) throw new Error(`Unknown event subject ${subject}`);
  const trace = injectTraceContext();
  const key = definition.partitionKey ? (data as unknown as Record<string, unknown>)[definition.partitionKey] : undefined;
  const envelope = {
    id: meta.id ?? uuidv7(),
    subject,
    schemaVersion: definition.version,
    workspaceId: meta.workspaceId,
    occurredAt: new Date().toISOString(),
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
