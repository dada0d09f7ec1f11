import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EVENTS, type EventEnvelope, type EventSubject } from '@tessera/contracts';
import { FACT_MAPPERS, MAPPED_SUBJECTS, mapFact } from './fact-mappers';

const SENTINEL = 'PII-SENTINEL-7f3a';

/** A payload whose every string field holds the sentinel, and objects hold it as a key and a value. */
function samplePayload(subject: EventSubject): Record<string, unknown> {
  const uuid = randomUUID();
  const base: Record<string, unknown> = {
    contactId: uuid, mergedContactId: uuid, segmentId: uuid, instanceId: uuid, journeyId: uuid, messageId: uuid, sourceId: uuid, conversationId: uuid, inboundMessageId: uuid,
    journeyVersion: 1, segmentVersion: 1, templateVersion: 1,
    at: '2026-11-10T10:00:00Z', occurredAt: '2026-11-10T10:00:00Z', timestamp: '2026-11-10T10:00:00Z', receivedAt: '2026-11-10T10:00:00Z', createdAt: '2026-11-10T10:00:00Z', updatedAt: '2026-11-10T10:00:00Z', changedAt: '2026-11-10T10:00:00Z', requestedAt: '2026-11-10T10:00:00Z', routedAt: '2026-11-10T10:00:00Z',
    type: 'track', status: 'sent', channel: 'email', state: 'subscribed', kind: 'completed', trigger: 'api', outcome: 'variant:A', stepId: 's1', stepType: 'split', goalId: 'g1', templateId: 't1', queue: 'support', source: 'api', provider: 'p', providerMessageId: 'pm1', requestId: 'r1', groupId: 'g', name: 'Purchase', unset: [],
  };
  // A batch of steps (journeys.step.completed.v2) holds step payloads.
  base.steps = [{ instanceId: uuid, journeyId: uuid, journeyVersion: 1, contactId: uuid, at: '2026-11-10T10:00:00Z', stepId: 's1', stepType: 'wait', outcome: 'waited', reason: SENTINEL }];
  const def = EVENTS[subject as keyof typeof EVENTS] as { personalData?: readonly string[] };
  for (const field of def.personalData ?? []) base[field] = field === 'attributes' || field === 'properties' || field === 'traits' || field === 'context' || field === 'raw' || field === 'data' || field === 'fields' ? { [SENTINEL]: SENTINEL, plan: SENTINEL } : SENTINEL;
  for (const field of ['userId', 'anonymousId', 'routingKey', 'previousId', 'from', 'text', 'email', 'phone', 'externalId', 'detail', 'reason', 'buttonPayload']) base[field] = SENTINEL;
  return base;
}

describe('fact mappers', () => {
  it('map every subject they list', () => {
    expect(MAPPED_SUBJECTS.length).toBe(Object.keys(FACT_MAPPERS).length);
    expect(MAPPED_SUBJECTS).toContain('crm.contact.created.v1');
  });

  it.each(MAPPED_SUBJECTS)('%s keeps no personal data in the fact', (subject) => {
    const data = samplePayload(subject);
    const envelope = { id: randomUUID(), subject, workspaceId: randomUUID(), occurredAt: '2026-11-10T10:00:00Z', producer: 'x', schemaVersion: 1, data } as unknown as EventEnvelope<never>;
    const mapped = mapFact(subject, data as never, envelope, { propertyKeys: new Set() })!;
    expect(JSON.stringify(mapped.data)).not.toContain(`:"${SENTINEL}`);
    expect(mapped.actor ?? '').not.toContain(SENTINEL);
    expect(JSON.stringify(mapped.counters)).not.toContain(SENTINEL);
  });

  it('counts each step of a batch (journeys.step.completed.v2) as journeys.step.completed.v1 counts one', () => {
    const envelope = { id: randomUUID(), workspaceId: randomUUID() } as unknown as EventEnvelope<never>;
    const step = (stepId: string, outcome: string) => ({ instanceId: randomUUID(), journeyId: randomUUID(), journeyVersion: 1, contactId: randomUUID(), at: '2026-11-10T10:00:00Z', stepId, stepType: 'wait', outcome });
    const steps = [step('w', 'waited'), step('s', 'sent'), step('w', 'waited')];
    const one = steps.flatMap((s) => mapFact('journeys.step.completed.v1', s as never, envelope, { propertyKeys: new Set() })!.counters);
    expect(mapFact('journeys.step.completed.v2', { steps } as never, envelope, { propertyKeys: new Set() })!.counters).toEqual(one);
  });

  it('counts bounded property values only when asked, and pseudonymises SDK identities', () => {
    const data = { ...samplePayload('ingestion.event.received.v1'), properties: { plan: 'pro', email: 'x@example.com' } };
    const envelope = { id: randomUUID(), workspaceId: randomUUID() } as unknown as EventEnvelope<never>;
    const mapped = mapFact('ingestion.event.received.v1', data as never, envelope, { propertyKeys: new Set(['plan']) })!;
    expect(mapped.counters.filter((c) => c.kind === 'day')).toEqual([{ metric: 'event.prop:Purchase', dim: 'prop:plan', value: 'pro', kind: 'day' }]);
    expect(mapped.actor).toMatch(/^h:[0-9a-f]{32}$/);
    expect(mapped.data).toEqual({ type: 'track', name: 'Purchase', propertyKeys: ['email', 'plan'], sourceId: (data as Record<string, unknown>)['sourceId'] });
  });
});
