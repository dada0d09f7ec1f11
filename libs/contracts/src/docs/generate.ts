import { version } from '../../package.json';
import type { EventDefinition, RequestDefinition } from '../define';
import { EVENTS, REQUESTS } from '../registry';
import { STREAMS, type StreamDefinition } from '../streams';
import { classSchemas, type Schema } from './class-schemas';
import { eventEnvelopeSchema, replyEnvelopeSchema } from './envelope-schemas';

/** Standalone schema files are JSON Schema draft-07, the dialect AsyncAPI 3.0 schemas extend. */
const DIALECT = 'http://json-schema.org/draft-07/schema#';
const COMPONENT = '#/components/schemas/';

// Plain code-unit order, not localeCompare: the output must not depend on the machine's locale.
const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);

/** Registry entries sorted by subject. */
export const events = (): EventDefinition[] => Object.entries(EVENTS as Record<string, EventDefinition>).sort(byKey).map(([, d]) => d);
export const requests = (): RequestDefinition[] =>
  Object.entries(REQUESTS as Record<string, RequestDefinition>).sort(byKey).map(([, d]) => d);

/** NATS subject matching: `*` is one token, a trailing `>` one or more. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

export const streamsOf = (subject: string): StreamDefinition[] =>
  STREAMS.filter((stream) => stream.subjects.some((filter) => subjectMatches(filter, subject)));

/** Every object's keys sorted (arrays keep their order), so the committed output only changes with the contracts. */
function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeys) as T;
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return Object.fromEntries(entries.sort(byKey).map(([k, v]) => [k, sortKeys(v)])) as T;
}

const ref = (name: string): Schema => ({ $ref: COMPONENT + name });

/** A class's schema as a self-contained file: nested classes go under `definitions`. */
function standalone(cls: new () => object, description: string): Schema {
  const { [cls.name]: root, ...definitions } = classSchemas([cls], '#/definitions/');
  return { $schema: DIALECT, title: cls.name, description, ...root, definitions: Object.keys(definitions).length ? definitions : undefined };
}

function eventParts(def: EventDefinition) {
  const messageRef = { $ref: `#/channels/${def.subject}/messages/${def.payload.name}` };
  const message = {
    name: def.payload.name,
    title: def.subject,
    summary: def.description,
    contentType: 'application/json',
    payload: eventEnvelopeSchema(ref(def.payload.name), def),
    'x-producer': def.producer,
    'x-partition-key': def.partitionKey,
    'x-personal-data': [...(def.personalData ?? [])],
  };
  const channel = {
    address: def.subject,
    description: def.description,
    messages: { [def.payload.name]: message },
    'x-stream': streamsOf(def.subject)[0]?.name,
  };
  const operation = {
    action: 'send',
    summary: `${def.producer} publishes ${def.subject}.`,
    channel: { $ref: `#/channels/${def.subject}` },
    messages: [messageRef],
  };
  return { channel, operation };
}

/** Requests go to the subject; the reply goes to the requester's inbox, hence a second channel with no fixed address. */
function requestParts(def: RequestDefinition) {
  const replyId = `${def.subject}.reply`;
  const { request: req, response: res } = def;
  const channel = {
    address: def.subject,
    description: def.description,
    messages: { [req.name]: { name: req.name, title: def.subject, summary: def.description, contentType: 'application/json', payload: ref(req.name) } },
  };
  const replyChannel = {
    address: null,
    description: `Reply to ${def.subject}, sent to the requester's NATS inbox (the reply subject of the request).`,
    messages: { [res.name]: { name: res.name, title: `${def.subject} reply`, contentType: 'application/json', payload: replyEnvelopeSchema(ref(res.name)) } },
  };
  const operation = {
    action: 'receive',
    summary: `${def.responder} answers ${def.subject}.`,
    channel: { $ref: `#/channels/${def.subject}` },
    messages: [{ $ref: `#/channels/${def.subject}/messages/${req.name}` }],
    reply: { channel: { $ref: `#/channels/${replyId}` }, messages: [{ $ref: `#/channels/${replyId}/messages/${res.name}` }] },
    'x-responder': def.responder,
  };
  return { channel, replyId, replyChannel, operation };
}

/**
 * The whole bus, from the registry alone: an AsyncAPI 3.0 document, and one draft-07 JSON Schema
 * per event payload, request and response (keyed by file name without `.json`) plus the envelopes.
 */
export function buildContractDocs(): { asyncapi: object; schemas: Record<string, object> } {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const schemas: Record<string, Schema> = {
    envelope: { $schema: DIALECT, title: 'EventEnvelope', ...eventEnvelopeSchema({ description: "The event's payload: see the schema named after its subject." }) },
    'reply-envelope': { $schema: DIALECT, title: 'ReplyEnvelope', ...replyEnvelopeSchema({ description: "The response: see the schema named `<subject>.response`." }) },
  };

  for (const def of events()) {
    const { channel, operation } = eventParts(def);
    channels[def.subject] = channel;
    operations[def.subject] = operation;
    schemas[def.subject] = standalone(def.payload, def.description);
  }
  for (const def of requests()) {
    const { channel, replyId, replyChannel, operation } = requestParts(def);
    channels[def.subject] = channel;
    channels[replyId] = replyChannel;
    operations[def.subject] = operation;
    schemas[`${def.subject}.request`] = standalone(def.request, `Request of ${def.subject}: ${def.description}`);
    schemas[`${def.subject}.response`] = standalone(def.response, `Response to ${def.subject}, carried as \`result\` in a reply envelope.`);
  }

  const roots = [...events().map((e) => e.payload), ...requests().flatMap((r) => [r.request, r.response])];
  const asyncapi = {
    asyncapi: '3.0.0',
    info: {
      title: 'Tessera bus',
      version,
      description: 'Events (JetStream) and request/reply (core NATS) between the Tessera services. Generated from libs/contracts: do not edit.',
    },
    defaultContentType: 'application/json',
    servers: { nats: { host: 'localhost:4222', protocol: 'nats', description: 'Local NATS with JetStream: nats://localhost:4222' } },
    channels,
    operations,
    components: {
      schemas: {
        ...classSchemas(roots, COMPONENT),
        EventEnvelope: eventEnvelopeSchema({ description: "The event's payload, per subject." }),
        ReplyEnvelope: replyEnvelopeSchema({ description: 'The response, per request subject.' }),
      },
    },
    'x-streams': STREAMS.map((stream) => ({ ...stream })),
  };
  return { asyncapi: sortKeys(asyncapi), schemas: sortKeys(schemas) };
}
