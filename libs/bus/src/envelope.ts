import { eventDefinition, type EventEnvelope, type EventMap, type EventSubject } from '@tessera/contracts';
import { injectTraceContext } from '@tessera/observability';
import { v7 as uuidv7 } from 'uuid';
import type { PublishMeta } from './bus.port';
import { PermanentError } from './errors';
import { checkPayload } from './payload-check';

/**
 * Builds the envelope for an event, validating the payload against its contract first, so a
 * producer bug fails where it happens rather than in every consumer.
 */
export function buildEnvelope<S extends EventSubject>(producer: string, subject: S, data: EventMap[S], meta: PublishMeta): EventEnvelope<EventMap[S]> {
  const definition = eventDefinition(subject);
  if (!definition) throw new Error(`Unknown event subject ${subject}: add it to libs/contracts/src/registry.ts`);
  const checked = checkPayload(definition.payload, data);
  if (!checked.ok) throw new PermanentError(`Invalid ${subject} payload: ${checked.errors.map((e) => `${e.path}: ${e.messages.join(', ')}`).join('; ')}`);
  const trace = injectTraceContext();
  const key = definition.partitionKey ? (data as unknown as Record<string, unknown>)[definition.partitionKey] : undefined;
  const occurredAt = meta.occurredAt instanceof Date ? meta.occurredAt.toISOString() : (meta.occurredAt ?? new Date().toISOString());
  return {
    id: meta.id ?? uuidv7(),
    subject,
    schemaVersion: definition.version,
    workspaceId: meta.workspaceId,
    occurredAt,
    producer,
    ...(trace.traceparent ? { traceparent: trace.traceparent } : {}),
    ...(trace.tracestate ? { tracestate: trace.tracestate } : {}),
    ...(key !== undefined ? { partitionKey: String(key) } : {}),
    data,
  };
}

/** Minimal structural check of an envelope read off the wire. */
export function envelopeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'message is not a JSON object';
  const e = value as Partial<EventEnvelope>;
  if (typeof e.id !== 'string' || !e.id) return 'envelope.id is missing';
  if (typeof e.workspaceId !== 'string' || !e.workspaceId) return 'envelope.workspaceId is missing';
  if (typeof e.subject !== 'string') return 'envelope.subject is missing';
  if (typeof e.data !== 'object' || e.data === null) return 'envelope.data must be an object';
  return undefined;
}
