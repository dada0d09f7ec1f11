import { connect, type Msg, type NatsConnection } from 'nats';
import {
  EVENTS,
  HEADERS,
  REQUESTS,
  validateContract,
  type EventDefinition,
  type ReplyEnvelope,
  type RequestDefinition,
  type ServiceName,
} from '@tessera/contracts';

/**
 * The contract conformance kit: checks a LIVE implementation of a service's bus contract (ours or
 * a user's replacement) from the outside, over NATS only.
 *  - Every request subject the service answers: a valid request gets a reply envelope whose result
 *    validates against the response class; an invalid one gets `{ ok: false, code: invalid_request }`.
 *  - Every event it publishes while `exercise` runs: a known subject produced by this service, a
 *    well-formed envelope, a payload valid against its class, `Nats-Msg-Id` equal to the event id,
 *    a W3C `traceparent` header, and no event id seen twice with different content.
 */
export interface ConformanceOptions {
  natsUrl: string;
  /** The BUS_NAMESPACE the implementation runs with ('' for none). */
  namespace: string;
  service: ServiceName;
  /** Sample valid requests per request subject (the kit cannot invent meaningful ones). */
  sampleRequests?: Record<string, object>;
  /** Drives the implementation so that it publishes events (e.g. calls its HTTP API). */
  exercise?: () => Promise<void>;
  /** How long to keep listening after `exercise` resolves, for events still in flight. */
  settleMs?: number;
}

export interface ConformanceReport {
  requestsChecked: string[];
  eventsSeen: Record<string, number>;
  problems: string[];
}

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const decoder = new TextDecoder();

export async function checkConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const wire = (subject: string): string => (options.namespace ? `${options.namespace}.${subject}` : subject);
  const nc = await connect({ servers: options.natsUrl.split(',') });
  const report: ConformanceReport = { requestsChecked: [], eventsSeen: {}, problems: [] };
  try {
    const seen = new Map<string, string>();
    const sub = nc.subscribe(wire(`${options.service}.>`), { callback: (_e, msg) => checkEvent(msg, options, report, seen) });
    for (const definition of Object.values(REQUESTS) as RequestDefinition[]) {
      if (definition.responder !== options.service) continue;
      await checkRequest(nc, wire(definition.subject), definition, options.sampleRequests?.[definition.subject], report);
    }
    await options.exercise?.();
    await new Promise((r) => setTimeout(r, options.settleMs ?? 1500));
    await nc.flush();
    sub.unsubscribe();
  } finally {
    await nc.close();
  }
  return report;
}

async function checkRequest(nc: NatsConnection, subject: string, definition: RequestDefinition, sample: object | undefined, report: ConformanceReport): Promise<void> {
  report.requestsChecked.push(definition.subject);
  const ask = async (body: unknown): Promise<ReplyEnvelope<unknown> | undefined> => {
    try {
      const reply = await nc.request(subject, new TextEncoder().encode(JSON.stringify(body)), { timeout: 3000 });
      return JSON.parse(decoder.decode(reply.data)) as ReplyEnvelope<unknown>;
    } catch (error) {
      report.problems.push(`${definition.subject}: no answer (${(error as Error).message})`);
      return undefined;
    }
  };
  const invalid = await ask({ '~not-a-field': true });
  if (invalid && (invalid.ok || invalid.error.code !== 'invalid_request')) report.problems.push(`${definition.subject}: an invalid request was not answered with { ok: false, error.code: 'invalid_request' }`);
  if (!sample) return;
  const answer = await ask(sample);
  if (!answer) return;
  if (!answer.ok) return void report.problems.push(`${definition.subject}: a valid sample request failed with ${answer.error.code}: ${answer.error.message}`);
  const checked = validateContract(definition.response, answer.result);
  if (!checked.ok) report.problems.push(`${definition.subject}: reply does not match ${definition.response.name}: ${JSON.stringify(checked.errors)}`);
}

function checkEvent(msg: Msg, options: ConformanceOptions, report: ConformanceReport, seen: Map<string, string>): void {
  const subject = options.namespace ? msg.subject.slice(options.namespace.length + 1) : msg.subject;
  // Replies to JetStream publishes and other non-event traffic never appear on <service>.>; every message here must be an event.
  report.eventsSeen[subject] = (report.eventsSeen[subject] ?? 0) + 1;
  const problem = (text: string): void => void report.problems.push(`${subject}: ${text}`);
  const definition = (EVENTS as Record<string, EventDefinition>)[subject];
  if (!definition) return problem('not a subject in libs/contracts');
  const text = decoder.decode(msg.data);
  let envelope: Record<string, unknown>;
  try {
    envelope = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return problem('body is not JSON');
  }
  if (envelope.subject !== subject) problem(`envelope.subject is ${String(envelope.subject)}`);
  if (envelope.producer !== options.service) problem(`envelope.producer is ${String(envelope.producer)}, expected ${options.service}`);
  if (envelope.schemaVersion !== definition.version) problem(`envelope.schemaVersion is ${String(envelope.schemaVersion)}, expected ${definition.version}`);
  if (typeof envelope.id !== 'string' || !envelope.id) problem('envelope.id is missing');
  if (typeof envelope.workspaceId !== 'string' || !envelope.workspaceId) problem('envelope.workspaceId is missing');
  if (typeof envelope.occurredAt !== 'string' || Number.isNaN(Date.parse(envelope.occurredAt))) problem('envelope.occurredAt is not an ISO date');
  const checked = validateContract(definition.payload, envelope.data);
  if (!checked.ok) problem(`payload does not match ${definition.payload.name}: ${JSON.stringify(checked.errors)}`);
  if (msg.headers?.get(HEADERS.msgId) !== envelope.id) problem('the Nats-Msg-Id header is not the envelope id (publish de-duplication would not work)');
  const traceparent = msg.headers?.get(HEADERS.traceparent);
  if (traceparent && !TRACEPARENT.test(traceparent)) problem(`traceparent header is malformed: ${traceparent}`);
  if (!traceparent) problem('no traceparent header: traces would stop at this service');
  const previous = seen.get(String(envelope.id));
  if (previous !== undefined && previous !== JSON.stringify(envelope.data)) problem(`event id ${String(envelope.id)} was reused for different content`);
  seen.set(String(envelope.id), JSON.stringify(envelope.data));
}
