import { Injectable, Logger } from '@nestjs/common';
import { OnEvent, OnEvents, type Delivered } from '@tessera/bus';
import { CONSENT_CHANGED_V1, CONTACT_CREATED_V1, CONTACT_ERASED_V1, CONTACT_UPDATED_V1, EVENT_RECEIVED_V1, MEMBERSHIP_ENTERED_V1, MEMBERSHIP_EXITED_V1, TEMPLATE_MISSING_V1 } from '@tessera/contracts';
import { JourneysRepository } from '../journeys/journeys.repository';
import { JourneyCatalog } from './journey-catalog.service';
import { ProjectionsRepository, type ContactChange } from './projections.repository';
import { TriggersService, type IncomingEvent } from './triggers.service';
import { UnresolvedEventsRepository, type UnresolvedEvent } from './unresolved-events.repository';

function groupBy<T>(list: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of list) {
    const group = out.get(key(item));
    if (group) group.push(item);
    else out.set(key(item), [item]);
  }
  return out;
}

/** What journeys consumes from the bus. Every handler is idempotent on redelivery (see TriggersService and the engine's tokens). */
@Injectable()
export class JourneyEventsHandlers {
  private readonly log = new Logger(JourneyEventsHandlers.name);

  constructor(
    private readonly triggers: TriggersService,
    private readonly projections: ProjectionsRepository,
    private readonly journeys: JourneysRepository,
    private readonly catalog: JourneyCatalog,
    private readonly unresolved: UnresolvedEventsRepository,
  ) {}

  @OnEvents(EVENT_RECEIVED_V1.subject, { maxSize: 500, maxWaitMs: 30 })
  async onTracked(events: Delivered<typeof EVENT_RECEIVED_V1.subject>[]): Promise<void> {
    for (const [workspaceId, list] of groupBy(events, (e) => e.envelope.workspaceId)) {
      const userIds = [...new Set(list.map((e) => e.data.userId).filter((u): u is string => !!u))];
      const contacts = await this.projections.resolveContacts(workspaceId, userIds);
      const incoming: IncomingEvent[] = [];
      const unknown: UnresolvedEvent[] = [];
      for (const e of list) {
        if (!e.data.userId) continue; // anonymous: nobody to journey with
        const event = { id: e.envelope.id, name: e.data.name ?? e.data.type, properties: e.data.properties, at: e.data.timestamp };
        const contactId = contacts.get(e.data.userId);
        if (contactId) incoming.push({ ...event, contactId });
        else unknown.push({ ...event, userId: e.data.userId });
      }
      await this.triggers.onEvents(workspaceId, incoming);
      await this.parkUnknown(workspaceId, unknown);
    }
  }

  /**
   * Keeps the events of senders not known yet that would start a journey (an unknown sender has no
   * instance for any other event to reach), then looks for their contacts once more: a created event
   * handled between the first lookup and the insert found nothing to replay, but its contact is
   * visible now. Whichever side writes second sees the other's write; if both replay, the entries'
   * trigger ids (the event ids) make the second one a no-op.
   */
  private async parkUnknown(workspaceId: string, unknown: UnresolvedEvent[]): Promise<void> {
    if (!unknown.length) return;
    const starting = new Set((await this.catalog.activeJourneys(workspaceId)).flatMap((j) => (j.definition.trigger.type === 'event' ? [j.definition.trigger.event] : [])));
    const kept = unknown.filter((e) => starting.has(e.name));
    if (!kept.length) return;
    await this.unresolved.park(workspaceId, kept);
    await this.replayUnresolved(workspaceId, kept.map((e) => e.userId));
  }

  /** Hands the waiting events of senders now known to the triggers, then forgets them. */
  private async replayUnresolved(workspaceId: string, userIds: string[]): Promise<void> {
    const waiting = await this.unresolved.pending(workspaceId, [...new Set(userIds)]);
    if (!waiting.length) return;
    const contacts = await this.projections.resolveContacts(workspaceId, [...new Set(waiting.map((e) => e.userId))]);
    const known = waiting.filter((e) => contacts.has(e.userId));
    await this.triggers.onEvents(
      workspaceId,
      known.map(({ userId, ...event }) => ({ ...event, contactId: contacts.get(userId)! })),
    );
    await this.unresolved.remove(workspaceId, known);
  }

  @OnEvents(CONTACT_CREATED_V1.subject, { maxSize: 500 })
  async onCreated(events: Delivered<typeof CONTACT_CREATED_V1.subject>[]): Promise<void> {
    for (const [workspaceId, list] of groupBy(events, (e) => e.envelope.workspaceId)) {
      const changes: ContactChange[] = list.map((e) => {
        const tz = e.data.attributes.timezone;
        return { contactId: e.data.contactId, externalId: e.data.externalId ?? null, ...(typeof tz === 'string' ? { timezone: tz } : {}), attributes: e.data.attributes, unset: [], fill: true };
      });
      await this.applyContacts(workspaceId, changes);
    }
  }

  /** Batched in stream order (one batch at a time): one per identify that changes a trait, so frequent. */
  @OnEvents(CONTACT_UPDATED_V1.subject, { maxSize: 500 })
  async onUpdated(events: Delivered<typeof CONTACT_UPDATED_V1.subject>[]): Promise<void> {
    for (const [workspaceId, list] of groupBy(events, (e) => e.envelope.workspaceId)) {
      const changes = list.map(({ data: { fields, attributes, unset, contactId } }) => {
        const tz = 'timezone' in fields ? fields.timezone : typeof attributes.timezone === 'string' ? attributes.timezone : undefined;
        return { contactId, ...('externalId' in fields ? { externalId: (fields.externalId as string | null) ?? null } : {}), ...(tz !== undefined ? { timezone: (tz as string | null) ?? null } : {}), attributes, unset };
      });
      await this.applyContacts(workspaceId, changes);
    }
  }

  /** Updates the projection, then reschedules date triggers and replays the events that waited for these external ids. */
  private async applyContacts(workspaceId: string, changes: ContactChange[]): Promise<void> {
    const applied = await this.projections.applyContacts(workspaceId, changes);
    for (const c of applied) await this.triggers.onContactChanged(workspaceId, c.contactId, c.attributes, c.timezone);
    await this.replayUnresolved(workspaceId, applied.flatMap((c) => (c.externalId ? [c.externalId] : [])));
  }

  @OnEvent(CONTACT_ERASED_V1.subject)
  async onErased(e: Delivered<typeof CONTACT_ERASED_V1.subject>): Promise<void> {
    await this.triggers.stopContact(e.envelope.workspaceId, e.data.contactId, 'erased', 'contact erased');
    await this.projections.eraseContact(e.envelope.workspaceId, e.data.contactId);
  }

  @OnEvent(CONSENT_CHANGED_V1.subject, { ordered: true })
  async onConsent(e: Delivered<typeof CONSENT_CHANGED_V1.subject>): Promise<void> {
    const key = e.data.group ? `${e.data.channel}:${e.data.group}` : e.data.channel;
    await this.projections.setConsent(e.envelope.workspaceId, e.data.contactId, key, e.data.state);
    if (e.data.state === 'unsubscribed' && !e.data.group) await this.triggers.onUnsubscribed(e.envelope.workspaceId, e.data.contactId, e.data.channel);
  }

  @OnEvent(MEMBERSHIP_ENTERED_V1.subject, { ordered: true })
  async onEntered(e: Delivered<typeof MEMBERSHIP_ENTERED_V1.subject>): Promise<void> {
    await this.projections.addMember(e.envelope.workspaceId, e.data.segmentId, e.data.contactId, e.data.at);
    await this.triggers.onSegmentChange(e.envelope.workspaceId, 'segment_entered', e.data.segmentId, e.data.contactId, e.envelope.id);
  }

  @OnEvent(MEMBERSHIP_EXITED_V1.subject, { ordered: true })
  async onExited(e: Delivered<typeof MEMBERSHIP_EXITED_V1.subject>): Promise<void> {
    await this.projections.removeMember(e.envelope.workspaceId, e.data.segmentId, e.data.contactId);
    await this.triggers.onSegmentChange(e.envelope.workspaceId, 'segment_exited', e.data.segmentId, e.data.contactId, e.envelope.id);
  }

  /**
   * A send that failed because its template is gone pauses the journey, with the reason visible on
   * it. Messaging announces that failure with its own event, so journeys does not take every
   * message status event to find the rare one that matters here.
   */
  @OnEvent(TEMPLATE_MISSING_V1.subject)
  async onTemplateMissing(e: Delivered<typeof TEMPLATE_MISSING_V1.subject>): Promise<void> {
    const { journeyId, templateId } = e.data;
    if (!journeyId) return;
    const changed = await this.journeys.pauseForReason(e.envelope.workspaceId, journeyId, `template_not_found: template ${templateId} no longer exists`);
    if (changed) {
      this.catalog.invalidate(e.envelope.workspaceId);
      this.log.warn(`journey ${journeyId} paused: template ${templateId} not found`);
    }
  }
}
