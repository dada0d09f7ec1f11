import { Injectable } from '@nestjs/common';
import { OnEvents, type Delivered } from '@tessera/bus';
import {
  CONSENT_CHANGED_V1,
  CONTACT_CREATED_V1,
  CONTACT_ERASED_V1,
  CONTACT_MERGED_V1,
  CONTACT_TAGGED_V1,
  CONTACT_UNTAGGED_V1,
  CONTACT_UPDATED_V1,
  EVENT_RECEIVED_V1,
  IDENTIFY_RECEIVED_V1,
  LIST_MEMBERSHIP_CHANGED_V1,
  MESSAGE_STATUS_CHANGED_V1,
  OBJECT_RECORD_CHANGED_V1,
} from '@tessera/contracts';
import { AnonymousLinkService } from './anonymous-links.service';
import { ProjectionService, type ContactChange, type Delivery } from './projection.service';
import type { NewEngagement, NewEvent } from './projection.repository';

/** Message statuses that count as engagement, by condition action. */
const ENGAGEMENT: Record<string, NewEngagement['action']> = { delivered: 'received', opened: 'opened', read: 'opened', clicked: 'clicked' };

const delivery = <T>(e: { envelope: { id: string; workspaceId: string } }, change: T): Delivery<T> => ({ eventId: e.envelope.id, workspaceId: e.envelope.workspaceId, change });

/** Standard fields of a created contact, kept beside its custom attributes. */
function createdAttrs(d: Delivered<typeof CONTACT_CREATED_V1.subject>['data']): Record<string, unknown> {
  const attrs: Record<string, unknown> = { ...d.attributes };
  if (d.externalId !== undefined) attrs.externalId = d.externalId;
  if (d.email !== undefined) attrs.email = d.email;
  if (d.phone !== undefined) attrs.phone = d.phone;
  return attrs;
}

/** The projection's inputs: CRM contact events and ingestion's behavioural events, batched. */
@Injectable()
export class ProjectionHandlers {
  constructor(
    private readonly projection: ProjectionService,
    private readonly anonymousLinks: AnonymousLinkService,
  ) {}

  /** identify(userId, anonymousId): what the visitor did before signing up becomes the user's. */
  @OnEvents(IDENTIFY_RECEIVED_V1.subject, { maxSize: 500, maxWaitMs: 50 })
  async onIdentify(events: Delivered<typeof IDENTIFY_RECEIVED_V1.subject>[]): Promise<void> {
    await this.anonymousLinks.linked(
      events.flatMap(({ envelope, data }) => (data.userId && data.anonymousId ? [{ workspaceId: envelope.workspaceId, userId: data.userId, anonymousId: data.anonymousId }] : [])),
    );
  }

  @OnEvents(EVENT_RECEIVED_V1.subject, { maxSize: 1000, maxWaitMs: 50 })
  async onEvents(events: Delivered<typeof EVENT_RECEIVED_V1.subject>[]): Promise<void> {
    const rows: NewEvent[] = events.map(({ envelope, data }) => ({
      id: envelope.id,
      workspaceId: envelope.workspaceId,
      personKey: data.userId ? `u:${data.userId}` : `a:${data.anonymousId ?? data.routingKey}`,
      altKey: data.userId && data.anonymousId ? `a:${data.anonymousId}` : undefined,
      name: data.type === 'track' ? (data.name ?? '') : `$${data.type}`,
      occurredAt: data.timestamp,
      properties: data.type === 'track' ? data.properties : { ...data.properties, name: data.name ?? null },
    }));
    await this.projection.eventsReceived(rows);
  }

  @OnEvents(CONTACT_CREATED_V1.subject, { maxSize: 100, maxWaitMs: 10 })
  async onCreated(events: Delivered<typeof CONTACT_CREATED_V1.subject>[]): Promise<void> {
    await this.projection.contactsChanged(events.map((e) => delivery<ContactChange>(e, { kind: 'upsert', contactId: e.data.contactId, attrs: createdAttrs(e.data), unset: [], fill: true })));
  }

  @OnEvents(CONTACT_UPDATED_V1.subject, { maxSize: 100, maxWaitMs: 10 })
  async onUpdated(events: Delivered<typeof CONTACT_UPDATED_V1.subject>[]): Promise<void> {
    await this.projection.contactsChanged(
      events.map((e) => delivery<ContactChange>(e, { kind: 'upsert', contactId: e.data.contactId, attrs: { ...e.data.attributes, ...e.data.fields }, unset: e.data.unset })),
    );
  }

  @OnEvents(CONTACT_MERGED_V1.subject, { maxSize: 50, maxWaitMs: 10 })
  async onMerged(events: Delivered<typeof CONTACT_MERGED_V1.subject>[]): Promise<void> {
    await this.projection.contactsChanged(events.map((e) => delivery<ContactChange>(e, { kind: 'merge', contactId: e.data.contactId, mergedContactId: e.data.mergedContactId })));
  }

  @OnEvents(CONTACT_ERASED_V1.subject, { maxSize: 50, maxWaitMs: 10 })
  async onErased(events: Delivered<typeof CONTACT_ERASED_V1.subject>[]): Promise<void> {
    await this.projection.contactsChanged(events.map((e) => delivery<ContactChange>(e, { kind: 'erase', contactId: e.data.contactId })));
  }

  @OnEvents(CONSENT_CHANGED_V1.subject, { maxSize: 100, maxWaitMs: 10 })
  async onConsent(events: Delivered<typeof CONSENT_CHANGED_V1.subject>[]): Promise<void> {
    await this.projection.contactsChanged(
      events.map((e) => delivery<ContactChange>(e, { kind: 'consent', contactId: e.data.contactId, channel: e.data.channel, group: e.data.group ?? '', state: e.data.state, changedAt: e.data.changedAt })),
    );
  }

  @OnEvents(CONTACT_TAGGED_V1.subject, { maxSize: 100, maxWaitMs: 10 })
  async onTagged(events: Delivered<typeof CONTACT_TAGGED_V1.subject>[]): Promise<void> {
    await this.projection.contactsChanged(events.map((e) => delivery<ContactChange>(e, { kind: 'tag', contactId: e.data.contactId, tag: e.data.tag, added: true })));
  }

  @OnEvents(CONTACT_UNTAGGED_V1.subject, { maxSize: 100, maxWaitMs: 10 })
  async onUntagged(events: Delivered<typeof CONTACT_UNTAGGED_V1.subject>[]): Promise<void> {
    await this.projection.contactsChanged(events.map((e) => delivery<ContactChange>(e, { kind: 'tag', contactId: e.data.contactId, tag: e.data.tag, added: false })));
  }

  @OnEvents(LIST_MEMBERSHIP_CHANGED_V1.subject, { maxSize: 20, maxWaitMs: 10 })
  async onListChanged(events: Delivered<typeof LIST_MEMBERSHIP_CHANGED_V1.subject>[]): Promise<void> {
    await this.projection.contactsChanged(events.map((e) => delivery<ContactChange>(e, { kind: 'list', listId: e.data.listId, contactIds: e.data.contactIds, added: e.data.change === 'added' })));
  }

  @OnEvents(OBJECT_RECORD_CHANGED_V1.subject, { maxSize: 100, maxWaitMs: 10 })
  async onObjectChanged(events: Delivered<typeof OBJECT_RECORD_CHANGED_V1.subject>[]): Promise<void> {
    await this.projection.contactsChanged(
      events.map((e) =>
        delivery<ContactChange>(e, { kind: 'object', recordId: e.data.recordId, objectType: e.data.objectType, contactId: e.data.contactId, data: e.data.data, deleted: e.data.change === 'deleted' }),
      ),
    );
  }

  @OnEvents(MESSAGE_STATUS_CHANGED_V1.subject, { maxSize: 500, maxWaitMs: 20 })
  async onMessageStatus(events: Delivered<typeof MESSAGE_STATUS_CHANGED_V1.subject>[]): Promise<void> {
    const rows: NewEngagement[] = [];
    for (const { envelope, data } of events) {
      const action = ENGAGEMENT[data.status];
      if (action) rows.push({ id: envelope.id, workspaceId: envelope.workspaceId, contactId: data.contactId, action, channel: data.channel, templateId: data.templateId, occurredAt: data.occurredAt });
    }
    await this.projection.engagementReceived(rows);
  }
}
