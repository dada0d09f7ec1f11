import { createHash } from 'node:crypto';
import {
  ALIAS_RECEIVED_V1,
  CONSENT_CHANGED_V1,
  CONTACT_CREATED_V1,
  CONTACT_UPDATED_V1,
  CONTACT_UPDATE_REQUESTED_V1,
  CONVERSATION_ROUTED_V1,
  CUSTOM_EVENT_PUBLISHED_V1,
  DELIVERY_STATUS_RECEIVED_V1,
  EVENT_RECEIVED_V1,
  GOAL_REACHED_V1,
  GROUP_RECEIVED_V1,
  IDENTIFY_RECEIVED_V1,
  INBOUND_MESSAGE_RECEIVED_V1,
  INSTANCE_ENTERED_V1,
  INSTANCE_EXITED_V1,
  MEMBERSHIP_ENTERED_V1,
  MEMBERSHIP_EXITED_V1,
  MESSAGE_REQUESTED_V1,
  MESSAGE_STATUS_CHANGED_V1,
  STEP_COMPLETED_V1,
  STEP_COMPLETED_V2,
  UNSUBSCRIBE_REQUESTED_V1,
  type EventEnvelope,
  type EventMap,
  type EventSubject,
} from '@tessera/contracts';

/**
 * How a counter is kept: `all` in minute, hour and local-day rollups; `day` only per local day
 * (bounded property-value counters); `unique` like `all` plus exact distinct actors per local day.
 */
export type CounterKind = 'all' | 'day' | 'unique';

export interface Counter {
  metric: string;
  /** The breakdown ('' for the workspace total): channel, template, journey, step, segment, name... */
  dim: string;
  value: string;
  kind: CounterKind;
}

/** Per-instance journey facts (a small projection), for conversion windows and A/B splits. */
export interface InstanceUpdate {
  instanceId: string;
  journeyId: string;
  contactId: string;
  enteredAt?: string;
  variant?: string;
  goalAt?: string;
  exitedAt?: string;
}

export interface MappedFact {
  contactId: string | null;
  /** Who did it, for unique counts: the contact id, or a pseudonymous hash of an SDK identity. */
  actor: string | null;
  /** What the fact keeps: ids, names and categories only, never a contract's personal fields. */
  data: Record<string, unknown>;
  counters: Counter[];
  instance?: InstanceUpdate;
}

export interface MapContext {
  /** Property keys whose values are counted per day for "top properties" (a bounded set). */
  propertyKeys: ReadonlySet<string>;
}

type Mapper<S extends EventSubject> = (data: EventMap[S], envelope: EventEnvelope<EventMap[S]>, ctx: MapContext) => MappedFact;

const c = (metric: string, dim = '', value = '', kind: CounterKind = 'all'): Counter => ({ metric, dim, value, kind });
/** Counters for each present breakdown of one metric. */
const byDims = (metric: string, dims: Record<string, string | undefined | null>, kind: CounterKind = 'all'): Counter[] => {
  // A plain loop: this runs for most events on the ingest hot path.
  const out = [c(metric, '', '', kind)];
  for (const dim in dims) {
    const value = dims[dim];
    if (value) out.push(c(metric, dim, value, kind));
  }
  return out;
};
const keys = (o: Record<string, unknown> | undefined): string[] => Object.keys(o ?? {}).sort();
/** SDK identities (user/anonymous ids) are personal: facts keep a keyed, one-way pseudonym only. */
export const pseudonym = (workspaceId: string, routingKey: string): string =>
  'h:' + createHash('sha256').update(`${workspaceId}\0${routingKey}`).digest('hex').slice(0, 32);
const PROPERTY_VALUE_MAX = 100;

function propertyCounters(eventName: string, properties: Record<string, unknown>, ctx: MapContext): Counter[] {
  const out: Counter[] = [];
  for (const key of ctx.propertyKeys) {
    const raw = properties[key];
    if (raw === undefined || raw === null || typeof raw === 'object') continue;
    out.push(c(`event.prop:${eventName}`, `prop:${key}`, String(raw).slice(0, PROPERTY_VALUE_MAX), 'day'));
  }
  return out;
}

const journeyBase = (d: { instanceId: string; journeyId: string; journeyVersion: number; campaignId?: string }): Record<string, unknown> => ({
  instanceId: d.instanceId,
  journeyId: d.journeyId,
  journeyVersion: d.journeyVersion,
  ...(d.campaignId ? { campaignId: d.campaignId } : {}),
});

const stepCounters = (d: { journeyId: string; stepId: string; outcome: string }): Counter[] => [
  c('journey.step.completed', 'step', `${d.journeyId}/${d.stepId}`),
  c('journey.step.outcome', 'step', `${d.journeyId}/${d.stepId}/${d.outcome}`),
];

/**
 * Every subject analytics records, and how. Adding a subject = one entry here (the handlers are
 * generated from this table). Mappers are pure and copy fields explicitly: nothing listed as
 * personal data in a contract reaches a fact (fact-mappers.spec.ts checks every entry).
 */
export const FACT_MAPPERS: { [S in EventSubject]?: Mapper<S> } = {
  [CONTACT_CREATED_V1.subject]: (d) => ({ contactId: d.contactId, actor: d.contactId, data: { attributeNames: keys(d.attributes) }, counters: [c('contact.created')] }),
  [CONTACT_UPDATED_V1.subject]: (d) => ({
    contactId: d.contactId,
    actor: d.contactId,
    data: { fieldNames: keys(d.fields), attributeNames: keys(d.attributes), unset: [...d.unset].sort() },
    counters: [c('contact.updated')],
  }),
  [CONSENT_CHANGED_V1.subject]: (d) => ({
    contactId: d.contactId,
    actor: d.contactId,
    data: { channel: d.channel, group: d.group ?? null, state: d.state, source: d.source },
    counters: byDims(`consent.${d.state}`, { channel: d.channel }),
  }),
  [EVENT_RECEIVED_V1.subject]: (d, e, ctx) => {
    const name = d.type === 'track' ? (d.name ?? '(unnamed)') : `${d.type}:${d.name ?? ''}`;
    return {
      contactId: null,
      actor: pseudonym(e.workspaceId, d.routingKey),
      data: { type: d.type, name, propertyKeys: keys(d.properties), sourceId: d.sourceId },
      counters: [...byDims('event', { name }, 'unique'), ...propertyCounters(name, d.properties, ctx)],
    };
  },
  [IDENTIFY_RECEIVED_V1.subject]: (d, e) => ({ contactId: null, actor: pseudonym(e.workspaceId, d.routingKey), data: { traitKeys: keys(d.traits), sourceId: d.sourceId }, counters: [c('identify')] }),
  [ALIAS_RECEIVED_V1.subject]: (d, e) => ({ contactId: null, actor: pseudonym(e.workspaceId, d.routingKey), data: { sourceId: d.sourceId }, counters: [c('alias')] }),
  [GROUP_RECEIVED_V1.subject]: (d, e) => ({
    contactId: null,
    actor: pseudonym(e.workspaceId, d.routingKey),
    data: { groupId: d.groupId, traitKeys: keys(d.traits), sourceId: d.sourceId },
    counters: [c('group')],
  }),
  [INBOUND_MESSAGE_RECEIVED_V1.subject]: (d) => ({
    contactId: null,
    actor: null,
    data: { channel: d.channel, provider: d.provider, providerMessageId: d.providerMessageId, hasText: !!d.text, hasButton: !!d.buttonPayload },
    counters: byDims('inbound', { channel: d.channel }),
  }),
  [DELIVERY_STATUS_RECEIVED_V1.subject]: (d) => ({
    contactId: null,
    actor: null,
    data: { channel: d.channel, provider: d.provider, providerMessageId: d.providerMessageId, status: d.status },
    counters: byDims(`provider.${d.status}`, { channel: d.channel }),
  }),
  [MESSAGE_STATUS_CHANGED_V1.subject]: (d) => ({
    contactId: d.contactId,
    actor: d.contactId,
    // `detail` is left out: vendor reasons and clicked URLs can carry addresses and tokens.
    data: { messageId: d.messageId, status: d.status, channel: d.channel, templateId: d.templateId, templateVersion: d.templateVersion ?? null, journeyId: d.journeyId ?? null, campaignId: d.campaignId ?? null },
    counters: byDims(`msg.${d.status}`, { channel: d.channel, template: d.templateId, journey: d.journeyId, campaign: d.campaignId }),
  }),
  [UNSUBSCRIBE_REQUESTED_V1.subject]: (d) => ({
    contactId: d.contactId,
    actor: d.contactId,
    data: { channel: d.channel, group: d.group ?? null, source: d.source, messageId: d.messageId ?? null },
    counters: byDims('unsubscribe.requested', { channel: d.channel }),
  }),
  [CONVERSATION_ROUTED_V1.subject]: (d) => ({
    contactId: d.contactId ?? null,
    actor: d.contactId ?? null,
    data: { conversationId: d.conversationId, channel: d.channel, queue: d.queue, ruleId: d.ruleId ?? null, ruleKind: d.ruleKind ?? null },
    counters: byDims('conversation.routed', { channel: d.channel, queue: d.queue }),
  }),
  [MEMBERSHIP_ENTERED_V1.subject]: (d) => ({ contactId: d.contactId, actor: d.contactId, data: { segmentId: d.segmentId, segmentVersion: d.segmentVersion }, counters: [c('segment.entered', 'segment', d.segmentId)] }),
  [MEMBERSHIP_EXITED_V1.subject]: (d) => ({ contactId: d.contactId, actor: d.contactId, data: { segmentId: d.segmentId, segmentVersion: d.segmentVersion }, counters: [c('segment.exited', 'segment', d.segmentId)] }),
  [MESSAGE_REQUESTED_V1.subject]: (d) => ({
    contactId: d.contactId,
    actor: d.contactId,
    data: { requestId: d.requestId, channel: d.channel, templateId: d.templateId, journeyId: d.journeyId ?? null, stepId: d.stepId ?? null, instanceId: d.instanceId ?? null, campaignId: d.campaignId ?? null },
    counters: byDims('journey.message_requested', { journey: d.journeyId, step: d.journeyId && d.stepId ? `${d.journeyId}/${d.stepId}` : undefined, channel: d.channel }),
  }),
  [INSTANCE_ENTERED_V1.subject]: (d) => ({
    contactId: d.contactId,
    actor: d.contactId,
    data: { ...journeyBase(d), trigger: d.trigger },
    counters: byDims('journey.entered', { journey: d.journeyId }, 'unique'),
    instance: { instanceId: d.instanceId, journeyId: d.journeyId, contactId: d.contactId, enteredAt: d.at },
  }),
  [STEP_COMPLETED_V1.subject]: (d) => {
    const variant = d.outcome.startsWith('variant:') ? d.outcome.slice('variant:'.length) : undefined;
    return {
      contactId: d.contactId,
      actor: d.contactId,
      data: { ...journeyBase(d), stepId: d.stepId, stepType: d.stepType, outcome: d.outcome },
      counters: stepCounters(d),
      ...(variant ? { instance: { instanceId: d.instanceId, journeyId: d.journeyId, contactId: d.contactId, variant } } : {}),
    };
  },
  // One fact per batch, counting every step in it as v1 counts one (split steps, which set an
  // instance's variant, still arrive one by one as v1). No contact or instance ids: the fact
  // belongs to no single contact, so erasing one could not find it.
  [STEP_COMPLETED_V2.subject]: (d) => ({
    contactId: null,
    actor: null,
    data: { steps: d.steps.map((s) => ({ journeyId: s.journeyId, journeyVersion: s.journeyVersion, stepId: s.stepId, stepType: s.stepType, outcome: s.outcome })) },
    counters: d.steps.flatMap(stepCounters),
  }),
  [GOAL_REACHED_V1.subject]: (d) => ({
    contactId: d.contactId,
    actor: d.contactId,
    data: { ...journeyBase(d), goalId: d.goalId },
    counters: byDims('journey.goal', { journey: d.journeyId, goal: `${d.journeyId}/${d.goalId}` }),
    instance: { instanceId: d.instanceId, journeyId: d.journeyId, contactId: d.contactId, goalAt: d.at },
  }),
  [INSTANCE_EXITED_V1.subject]: (d) => ({
    contactId: d.contactId,
    actor: d.contactId,
    data: { ...journeyBase(d), kind: d.kind },
    counters: byDims('journey.exited', { journey: d.journeyId, exit_kind: `${d.journeyId}/${d.kind}` }),
    instance: { instanceId: d.instanceId, journeyId: d.journeyId, contactId: d.contactId, exitedAt: d.at, ...(d.kind === 'holdout' ? { variant: 'holdout' } : {}) },
  }),
  [CUSTOM_EVENT_PUBLISHED_V1.subject]: (d) => ({
    contactId: d.contactId,
    actor: d.contactId,
    data: { name: d.name, requestId: d.requestId, propertyKeys: keys(d.properties), journeyId: d.journeyId ?? null, stepId: d.stepId ?? null },
    counters: byDims('journey.custom_event', { name: d.name }),
  }),
  [CONTACT_UPDATE_REQUESTED_V1.subject]: (d) => ({ contactId: d.contactId, actor: d.contactId, data: { journeyId: d.journeyId ?? null }, counters: [c('journey.contact_update_requested')] }),
};

export const MAPPED_SUBJECTS = Object.keys(FACT_MAPPERS) as EventSubject[];

/** Maps one delivered event; undefined for a subject without a mapper. */
export function mapFact<S extends EventSubject>(subject: S, data: EventMap[S], envelope: EventEnvelope<EventMap[S]>, ctx: MapContext): MappedFact | undefined {
  const mapper = FACT_MAPPERS[subject] as Mapper<S> | undefined;
  return mapper?.(data, envelope, ctx);
}
